"""Where training runs: precision policy and device strategy, checked before any work starts.

`--strategy`:
- `none`: one device (the first GPU, else the CPU);
- `mirrored`: `tf.distribute.MirroredStrategy` over the GPUs of this machine
  (over its logical CPU devices where there is no GPU);
- `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy` across the
  machines that `TF_CONFIG` lists; every worker runs the same command;
- `data_parallel` (JAX backend): `keras.distribution.DataParallel` over all
  local devices.

The batch size is the global batch; each replica gets an equal share.
"""

import json
import os
from dataclasses import dataclass
from typing import Any

import keras

from keras_colorizer.run.options import PRECISIONS, STRATEGIES, OptionError

TF_STRATEGIES = ("mirrored", "multi_worker")
JAX_STRATEGIES = ("data_parallel",)


@dataclass
class Placement:
    """A strategy (or JAX distribution), its replica count and whether this process writes the run's files."""

    name: str
    replicas: int
    is_chief: bool
    scope: Any  # a context manager: `with placement.scope(): build the model`
    description: str

    @property
    def synchronized_norm(self):
        """Batch norm over the global batch: tf.distribute replicas would each see only their share."""
        return self.replicas > 1 and self.name in TF_STRATEGIES

    def release(self):
        """Undo what `place` set globally (the JAX distribution), so a later run in this process starts clean."""
        if self.name == "data_parallel":
            keras.distribution.set_distribution(None)

    def prepare_dataset(self, dataset):
        """Workers of a multi-worker run each take their share of every global batch."""
        if self.name != "multi_worker":
            return dataset
        import tensorflow as tf

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return dataset.with_options(options)


def check_tf_config(environ=os.environ):
    """The parsed `TF_CONFIG` for `multi_worker`, or `OptionError` saying what is wrong with it."""
    raw = environ.get("TF_CONFIG")
    if not raw:
        raise OptionError(
            "--strategy multi_worker needs TF_CONFIG, e.g. "
            '\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\''
        )
    try:
        config = json.loads(raw)
    except ValueError as error:
        raise OptionError(f"TF_CONFIG is not valid JSON ({error}). Received: {raw!r}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster.get("worker") or not isinstance(cluster["worker"], list):
        raise OptionError(f'TF_CONFIG needs "cluster": {{"worker": ["host:port", ...]}}. Received: {raw!r}')
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise OptionError(
            f'TF_CONFIG needs "task": {{"type": one of {sorted(cluster)}, "index": N}}. Received: {raw!r}'
        )
    index = task.get("index")
    if not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise OptionError(
            f'TF_CONFIG task index must be 0..{len(cluster[task["type"]]) - 1} for type {task["type"]!r}. '
            f"Received: {index!r}"
        )
    for address in sum((list(v) for v in cluster.values()), []):
        if not isinstance(address, str) or ":" not in address:
            raise OptionError(f"TF_CONFIG cluster addresses must be host:port. Received: {address!r}")
    return config


def check_bfloat16_support(backend):
    """`OptionError` unless the device that trains computes in bfloat16 natively."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "gpu":
            capability = getattr(device, "compute_capability", "0")
            if float(capability) < 8.0:
                raise OptionError(f"--precision mixed_bfloat16 needs a GPU of compute capability 8.0 or more; {device.device_kind} has {capability}")
            return
        if device.platform == "tpu":
            return
    else:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            capability = details.get("compute_capability", (0, 0))
            if tuple(capability) < (8, 0):
                name = details.get("device_name", "the GPU")
                raise OptionError(
                    f"--precision mixed_bfloat16 needs a GPU of compute capability 8.0 or more; "
                    f"{name} has {capability[0]}.{capability[1]} (use mixed_float16)"
                )
            return
    if not cpu_computes_bfloat16():
        raise OptionError(
            "--precision mixed_bfloat16 needs a device with bfloat16 arithmetic (a GPU of compute capability 8.0+, "
            "a TPU, or a CPU with AVX512-BF16 / AMX); this CPU has neither (use float32)"
        )


def cpu_computes_bfloat16():
    """Whether this CPU has bfloat16 arithmetic (AVX512-BF16 or AMX)."""
    return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())


def trains_on(backend=None):
    """The kind of device the training step runs on: "GPU", "TPU" or "CPU"."""
    backend = backend or keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.devices()[0].platform.upper()
    import tensorflow as tf

    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def precision_hint(precision, backend=None):
    """A line for the log where a faster precision is at hand on this machine, else None."""
    if precision == "float32" and trains_on(backend) == "CPU" and cpu_computes_bfloat16():
        return (
            "This CPU computes in bfloat16: --precision mixed_bfloat16 trained 1.4-1.7x faster "
            "than float32 on such CPUs (docs/benchmarks.md)."
        )
    return None


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def check_placement(strategy, precision, backend=None):
    """Check `--strategy` and `--precision` against the backend, before anything is built."""
    backend = backend or keras.backend.backend()
    if strategy not in STRATEGIES or precision not in PRECISIONS:
        raise OptionError(f"--strategy must be one of {', '.join(STRATEGIES)} and --precision one of "
                          f"{', '.join(PRECISIONS)}. Received: {strategy!r}, {precision!r}")
    if backend == "jax" and strategy in TF_STRATEGIES:
        raise OptionError(
            f"--strategy {strategy} is a tf.distribute strategy; with KERAS_BACKEND=jax use --strategy data_parallel"
        )
    if backend != "jax" and strategy in JAX_STRATEGIES:
        raise OptionError(
            f"--strategy {strategy} needs KERAS_BACKEND=jax; with TensorFlow use mirrored or multi_worker"
        )
    if strategy == "multi_worker":
        check_tf_config()
    if precision == "mixed_bfloat16":
        check_bfloat16_support(backend)


def set_precision(precision):
    """Set Keras' global dtype policy (variables stay float32; outputs of the last layers are float32)."""
    keras.config.set_dtype_policy(precision)


def place(strategy, batch_size, precision="float32", backend=None):
    """Create the strategy `strategy` (`--strategy`) names and check that `batch_size` splits over its replicas."""
    backend = backend or keras.backend.backend()
    check_placement(strategy, precision, backend)
    if strategy == "data_parallel":
        import jax

        devices = jax.devices()
        distribution = keras.distribution.DataParallel(devices=devices)
        keras.distribution.set_distribution(distribution)
        placement = Placement("data_parallel", len(devices), True, distribution.scope,
                              f"JAX DataParallel over {len(devices)} {devices[0].platform} device(s)")
    elif strategy in TF_STRATEGIES:
        import tensorflow as tf

        if strategy == "mirrored":
            devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
                d.name for d in tf.config.list_logical_devices("CPU")
            ]
            tf_strategy = tf.distribute.MirroredStrategy(devices=devices)
            is_chief = True
        else:
            tf_strategy = tf.distribute.MultiWorkerMirroredStrategy()
            is_chief = bool(tf_strategy.extended.should_checkpoint)
        replicas = int(tf_strategy.num_replicas_in_sync)
        kind = "MirroredStrategy" if strategy == "mirrored" else "MultiWorkerMirroredStrategy"
        placement = Placement(strategy, replicas, is_chief, tf_strategy.scope, f"{kind} with {replicas} replica(s)")
    else:
        import contextlib

        placement = Placement("none", 1, True, contextlib.nullcontext, f"one {trains_on(backend)}")
    if batch_size % placement.replicas:
        raise OptionError(
            f"--batch-size {batch_size} does not split over {placement.replicas} replicas "
            f"({placement.description}); use a multiple of {placement.replicas}"
        )
    return placement
