"""Training throughput: images/s and step time through `model.fit`, next to the PyTorch reference.

usage: python bench/train_throughput.py [--backend tensorflow|jax] [--generator unet_256]
           [--size 256] [--batch 1] [--precision float32] [--strategy none]
           [--jit-compile | --no-jit-compile] [--steps-per-execution 1]
           [--steps 10] [--warmup 3] [--logical-cpus N] [--peak] [--no-reference]

Builds the models as `train.py` does (`keras_colorizer.run.assemble.build_model`,
under the strategy's scope and the precision policy) and runs `model.fit` on
uint8 images held in memory, so the figure is the training step itself: Lab
conversion, discriminator update, generator update. Steps are timed by a
callback after `--warmup` steps of tracing and compilation. The JAX backend
needs no TensorFlow here. Then, where PyTorch is installed, the reference
../shared/bench/ref_pix2pix_torch.py runs with the same shape in the same
call (`--amp` for its bfloat16 autocast when --precision is mixed_bfloat16).

Also reported: the step's arithmetic (bench/flops.py, convolutions counted
from the models) and the rate it ran at, for both; with `--peak`, the rate
of dense matrix products in the precision's compute type on this device and
the step's share of it; on a GPU, its utilisation and memory from nvidia-smi
over the timed steps. Prints one JSON line.
"""

import argparse
import os
import statistics
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("tensorflow", "jax"), default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--generator", default="unet_256")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--strategy", default=None, help="default: none (data_parallel with JAX and several devices)")
    parser.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (tracing, compilation)")
    parser.add_argument("--logical-cpus", type=int, default=0, help="split the CPU into N logical devices (TensorFlow)")
    parser.add_argument("--peak", action="store_true",
                        help="also time dense matrix products in the precision's compute type, for the step's share of that peak")
    parser.add_argument("--no-reference", action="store_true")
    return parser.parse_args()


def device_description(backend):
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"{len(jax.devices())} x {device.device_kind} ({device.platform})"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"{len(gpus)} x {tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'GPU')}"
    return f"CPU ({len(tf.config.list_logical_devices('CPU'))} logical device(s))"


class StepTimer:
    """Wall time of each `fit` call into the compiled step, waiting for its result.

    `utilization` (a `hardware.GpuUtilization`) is told when the calls after
    the first `untimed` ones start and end, so that its samples cover only
    the timed steps.
    """

    def __init__(self, untimed, utilization):
        import keras

        class Callback(keras.callbacks.Callback):
            def on_train_batch_begin(cb, batch, logs=None):
                if len(self.times) == untimed:
                    utilization.start()
                self._start = time.perf_counter()

            def on_train_batch_end(cb, batch, logs=None):
                float(logs["g_l1"])  # the step has finished when its loss is readable
                self.times.append(time.perf_counter() - self._start)
                utilization.stop()

        self.times = []
        self.callback = Callback()


COMPUTE_DTYPES = {"float32": "float32", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def keras_throughput(args):
    if args.logical_cpus:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)
    import keras
    import numpy as np

    from flops import train_step_flops
    from hardware import GpuUtilization, matmul_peak_tflops
    from keras_colorizer.run import distribute
    from keras_colorizer.run.assemble import build_model, resolve_jit_compile
    from keras_colorizer.run.options import TrainOptions

    strategy = args.strategy or "none"
    options = TrainOptions(
        generator=args.generator, image_size=args.size, batch_size=args.batch, ngf=args.ngf, ndf=args.ndf,
        precision=args.precision, strategy=strategy, jit_compile=args.jit_compile,
        steps_per_execution=args.steps_per_execution, epochs=1,
    ).validate()
    placement = distribute.place(options.strategy, options.batch_size, options.precision)
    distribute.set_precision(options.precision)
    steps = args.warmup + args.steps
    with placement.scope():
        model = build_model(options, "rgb", steps_per_epoch=steps, synchronized_norm=placement.synchronized_norm)
    images = np.random.default_rng(0).integers(0, 256, (args.batch * steps, args.size, args.size, 3), dtype=np.uint8)
    untimed = max(1, args.warmup // args.steps_per_execution)
    with GpuUtilization() as utilization:
        timer = StepTimer(untimed, utilization)
        model.fit(images, batch_size=args.batch, epochs=1,
                  steps_per_epoch=steps // args.steps_per_execution * args.steps_per_execution,
                  shuffle=False, verbose=0, callbacks=[timer.callback])
    executions = timer.times[untimed:]
    step_s = statistics.median(executions) / args.steps_per_execution
    flops = train_step_flops(model.generator, model.discriminator, args.batch, args.size)
    work = {"model_gflop_per_step": round(flops / 1e9, 1), "achieved_tflops": round(flops / step_s / 1e12, 3)}
    if args.peak:
        gpu = distribute.trains_on() == "GPU"
        dtype = COMPUTE_DTYPES[args.precision]
        peak = matmul_peak_tflops(dtype, 8192 if gpu else 2048)
        work.update({f"{dtype}_matmul_peak_tflops": round(peak, 2), "share_of_matmul_peak": round(flops / step_s / 1e12 / peak, 3)})
    return {
        "impl": f"keras-{keras.backend.backend()}",
        "device": device_description(keras.backend.backend()),
        "replicas": placement.replicas,
        "strategy": placement.name,
        "precision": args.precision,
        "jit_compile": resolve_jit_compile(options),
        "steps_per_execution": args.steps_per_execution,
        "train_step_ms": round(step_s * 1e3, 1),
        "train_images_per_s": round(args.batch / step_s, 2),
        "timed_steps": len(executions) * args.steps_per_execution,
        **work,
        **utilization.summary(),
    }


def main():
    args = parse_args()
    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import add_ratios, report, torch_reference

    result = {"generator": args.generator, "size": args.size, "batch": args.batch, "keras": keras_throughput(args)}
    if not args.no_reference:
        amp = args.precision == "mixed_bfloat16"  # the reference's bfloat16 autocast
        result["torch"] = torch_reference(args.generator, args.size, args.batch, args.steps, 3, args.ngf, amp=amp)
        torch_ms = result["torch"].get("train_step_ms")
        if torch_ms and args.ndf == 64:  # the reference's discriminator has 64 filters: same work per step
            result["torch"]["achieved_tflops"] = round(result["keras"]["model_gflop_per_step"] / torch_ms, 3)
        add_ratios(result, ("train_step_ms", "train_images_per_s"))
    report(result)


if __name__ == "__main__":
    main()
