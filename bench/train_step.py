"""Training step and inference time of pix2pix, next to the PyTorch reference in the same run.

usage: python bench/train_step.py [--generator unet_256] [--size 256] [--batch 1]
                                  [--ngf 64] [--ndf 64] [--decoder-filters 96,64,48,32]
                                  [--lambda-temporal 100] [--d-batch joint] [--steps 5] [--infer 10] [--jit-compile]
                                  [--no-reference]

Times `Pix2Pix.train_step` as `model.fit` runs it (one compiled step: Lab
conversion of a uint8 batch, D update, G update) after two warm-up steps, and
the generator's inference; then runs ../shared/bench/ref_pix2pix_torch.py with
the same shape where PyTorch is installed. Prints one JSON line.
"""

import argparse
import statistics
import time

import numpy as np

from common import add_ratios, report, torch_reference


def keras_timings(args):
    import keras
    import tensorflow as tf

    from keras_colorizer.models import PatchGANDiscriminator, build_generator
    from keras_colorizer.gan.losses import ExtraLosses
    from keras_colorizer.gan.pix2pix import Pix2Pix

    keras.utils.set_random_seed(0)
    settings = {"decoder_filters": tuple(int(w) for w in args.decoder_filters.split(","))} if args.decoder_filters else {}
    generator = build_generator(args.generator, ngf=args.ngf, **settings)
    model = Pix2Pix(generator, PatchGANDiscriminator(ndf=args.ndf))
    adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
    model.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=args.jit_compile, d_batch=args.d_batch,
                  extra_losses=ExtraLosses(lambda_temporal=args.lambda_temporal, temporal_shift=32))
    images = np.random.default_rng(0).integers(0, 256, (args.batch, args.size, args.size, 3), dtype=np.uint8)
    batch = tf.constant(images)

    model.make_train_function()
    step = model.train_function
    iterator = iter([batch] * (args.steps + 2))
    times = []
    for i in range(args.steps + 2):
        start = time.perf_counter()
        logs = step(iterator)
        float(logs["g_l1"])  # wait for the step to finish
        if i >= 2:
            times.append(time.perf_counter() - start)

    l_norm = tf.random.uniform((1, args.size, args.size, 1), -1, 1)
    infer = tf.function(lambda x: generator(x, training=False), jit_compile=args.jit_compile)
    for _ in range(2):
        infer(l_norm).numpy()
    infer_times = []
    for _ in range(args.infer):
        start = time.perf_counter()
        infer(l_norm).numpy()
        infer_times.append(time.perf_counter() - start)
    return {
        "impl": "keras-tf" + ("-xla" if args.jit_compile else ""),
        "threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
        "infer_ms": round(statistics.median(infer_times) * 1e3, 1),
        "train_step_ms": round(statistics.median(times) * 1e3, 1),
        "train_images_per_s": round(args.batch / statistics.median(times), 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", default="unet_256")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--decoder-filters", default=None, help="a pretrained encoder's decoder widths, e.g. 64,48,32,16")
    parser.add_argument("--lambda-temporal", type=float, default=0.0, help="with the video consistency term (a 32-pixel-smaller crop)")
    parser.add_argument("--d-batch", default="separate", help="how the discriminator batches real and generated pairs (separate, joint)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--infer", type=int, default=10)
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    result = {"generator": args.generator, "size": args.size, "batch": args.batch, "d_batch": args.d_batch,
              "keras": keras_timings(args)}
    if not args.no_reference:
        result["torch"] = torch_reference(args.generator, args.size, args.batch, args.steps, args.infer, args.ngf)
        add_ratios(result, ("train_step_ms", "infer_ms"))
    report(result)


if __name__ == "__main__":
    main()
