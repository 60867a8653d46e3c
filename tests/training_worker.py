"""Train in a fresh process and save what the tests compare: `python -m tests.training_worker`.

Strategies with several devices, TF_CONFIG workers and other Keras backends
need a process of their own (devices and backend are fixed when TensorFlow
or Keras start), so the tests run this and read the .npz it writes:
generator and discriminator weights, both optimizers' variables, the step
count, the run folder.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--options", help="TrainOptions as JSON (a new run)")
    parser.add_argument("--resume", help="a run folder to continue")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--logical-cpus", type=int, default=0, help="split the CPU into this many logical devices")
    parser.add_argument("--save", help=".npz to write")
    argv = list(sys.argv[1:] if argv is None else argv)
    cli_args = None
    if "--cli" in argv:  # `--cli ARGS...`: run train.py with ARGS instead
        cli_args = argv[argv.index("--cli") + 1 :]
        argv = argv[: argv.index("--cli")]
    args = parser.parse_args(argv)

    if args.logical_cpus:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)

    if cli_args is not None:
        from keras_colorizer.cli.train import main as train_main

        return train_main(cli_args)

    import keras
    import numpy as np

    from keras_colorizer.config import TrainOptions
    from keras_colorizer.training import train

    if args.resume:
        result = train(resume=args.resume, max_steps=args.max_steps, verbose=0)
    else:
        result = train(TrainOptions(**json.loads(args.options)), max_steps=args.max_steps, verbose=0)
    model = result.model
    arrays = {"steps_taken": np.asarray(int(model.steps_taken.numpy())),
              "film_seeds": keras.ops.convert_to_numpy(model.film_seeds.state)}
    for prefix, network in (("g", model.generator), ("d", model.discriminator)):
        for i, w in enumerate(network.weights):
            arrays[f"{prefix}_weight/{i}/{w.path}"] = keras.ops.convert_to_numpy(w)
    for prefix, optimizer in (("g", model.g_optimizer), ("d", model.d_optimizer)):
        arrays[f"{prefix}_optimizer_class"] = np.asarray(type(optimizer).__name__)
        for i, v in enumerate(optimizer.variables):
            arrays[f"{prefix}_optimizer/{i}/{v.path}"] = keras.ops.convert_to_numpy(v)
    arrays["run_dir"] = np.asarray(result.run_dir)
    arrays["checkpoint"] = np.asarray(result.checkpoint or "")
    arrays["backend"] = np.asarray(keras.backend.backend())
    np.savez(args.save, **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main())
