"""One training step in a fresh process, on the backend KERAS_BACKEND names: `python -m tests.step_worker`.

The networks come from `.keras` files and the batch from a `.npz` the test
writes, so the TensorFlow and the JAX step start from the same weights and
see the same images. Writes every weight and both optimizers' variables,
keyed by variable path, to the case's OUT. Several `--case INIT OUT` run one
after the other in the one process (a backend's start-up is most of its time).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _read(path, default):
    """A case's setting from its text file, or `default` where the case has none."""
    return open(path).read().strip() if os.path.exists(path) else default


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", nargs=2, action="append", required=True, metavar=("INIT", "OUT"),
                        help="folder with generator.keras, discriminator.keras, batch.npz (and lambda_temporal.txt for "
                             "the consistency term with its crop at a fixed offset, d_noise.npz for the discriminator's "
                             "noise, d_batch.txt for how it batches its pairs); the .npz to write")
    parser.add_argument("--lr", type=float, default=2e-4)
    args = parser.parse_args(argv)
    for init, out in args.case:
        step(init, out, args.lr)
    return 0


def step(init, out, lr):
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_colorizer  # noqa: F401 - registers the model classes
    from keras_colorizer.run.assemble import paper_adam
    from keras_colorizer.gan.losses import ExtraLosses
    from keras_colorizer.gan.pix2pix import Pix2Pix

    generator = keras.saving.load_model(os.path.join(init, "generator.keras"))
    discriminator = keras.saving.load_model(os.path.join(init, "discriminator.keras"))
    batch = np.load(os.path.join(init, "batch.npz"))["images"]
    lambda_temporal_file = os.path.join(init, "lambda_temporal.txt")
    lambda_temporal = float(open(lambda_temporal_file).read()) if os.path.exists(lambda_temporal_file) else 0.0
    d_noise_file = os.path.join(init, "d_noise.npz")
    model = Pix2Pix(generator, discriminator)
    adam = dict(lr=lr, beta1=0.5, total_steps=10, decay_steps=0)
    model.compile(g_optimizer=paper_adam("g_adam", **adam), d_optimizer=paper_adam("d_adam", **adam),
                  extra_losses=ExtraLosses(lambda_temporal=lambda_temporal, temporal_shift=8),
                  d_noise=0.1 if os.path.exists(d_noise_file) else 0.0,
                  d_batch=_read(os.path.join(init, "d_batch.txt"), "separate"))
    if lambda_temporal:  # the backends draw different random numbers; the step's arithmetic is what is compared
        model.crop_offset = lambda: keras.ops.convert_to_tensor([3, 5], "int32")
    if os.path.exists(d_noise_file):  # the same noise on both backends: where each one adds it is what is compared
        noise = np.load(d_noise_file)
        model.discriminator_noise = lambda shape: (noise["real"], noise["fake"])
    model.build_optimizers()
    model.fit(tf.data.Dataset.from_tensors(batch).repeat(), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)

    arrays = {"backend": np.asarray(keras.backend.backend())}
    for prefix, network in (("g", generator), ("d", discriminator)):
        arrays.update({f"{prefix}/{w.path}": keras.ops.convert_to_numpy(w) for w in network.weights})
    for prefix, optimizer in (("g_opt", model.g_optimizer), ("d_opt", model.d_optimizer)):
        arrays.update({f"{prefix}/{v.path}": keras.ops.convert_to_numpy(v) for v in optimizer.variables})
    np.savez(out, **arrays)


if __name__ == "__main__":
    sys.exit(main())
