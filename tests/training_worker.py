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
    parser.add_argument("--save", help=".npz to write")
    parser.add_argument("--jobs", help='instead of the four above, a JSON list of runs made one after the other in this '
                                       'process, each {"options": {...}} or {"resume": FOLDER}, with "save" and "max_steps"')
    parser.add_argument("--logical-cpus", type=int, default=0, help="split the CPU into this many logical devices")
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

    if args.jobs:
        jobs = json.loads(args.jobs)
    else:
        jobs = [dict(options=json.loads(args.options) if args.options else None, resume=args.resume,
                     max_steps=args.max_steps, save=args.save)]
    for job in jobs:  # a process's start-up (TensorFlow, a backend, tracing) is most of a short run's time
        run(job)
    return 0


def run(job):
    """Train one job and write what the tests compare to its "save" .npz."""
    import keras
    import numpy as np

    from keras_colorizer.run.options import TrainOptions
    from keras_colorizer.run.training import train

    if job.get("resume"):
        result = train(resume=job["resume"], max_steps=job.get("max_steps"), verbose=0)
    else:
        result = train(TrainOptions(**job["options"]), max_steps=job.get("max_steps"), verbose=0)
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
    np.savez(job["save"], **arrays)


if __name__ == "__main__":
    sys.exit(main())
