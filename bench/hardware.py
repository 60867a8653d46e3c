"""What the device can do and how busy it is: a measured matrix-product peak, and GPU utilisation from nvidia-smi."""

import shutil
import statistics
import subprocess
import threading
import time


def matmul_peak_tflops(dtype, size, repeats=20):
    """Dense (size x size) @ (size x size) products in `dtype` with the Keras backend, in TFLOP/s.

    The products are queued back to back and the clock stops when the last
    one is readable, so asynchronous backends are timed as a whole.
    """
    import keras
    from keras import ops

    a = keras.random.normal((size, size), dtype="float32", seed=1) / size**0.5
    b = keras.random.normal((size, size), dtype="float32", seed=2) / size**0.5
    a, b = ops.cast(a, dtype), ops.cast(b, dtype)

    def wait_for(product):  # one element back on the host, as float32 (TensorFlow cannot hand NumPy a bfloat16 scalar)
        ops.convert_to_numpy(ops.cast(product[0, 0], "float32"))

    for _ in range(3):
        wait_for(ops.matmul(a, b))
    start = time.perf_counter()
    for _ in range(repeats):
        product = ops.matmul(a, b)
    wait_for(product)
    seconds = (time.perf_counter() - start) / repeats
    return 2 * size**3 / seconds / 1e12


class GpuUtilization:
    """Samples `nvidia-smi` every 100 ms in the background; summarises the samples taken between `start()` and `stop()`.

    `available` is False where there is no nvidia-smi (a CPU machine); the
    summary is then empty.
    """

    def __init__(self):
        self.available = shutil.which("nvidia-smi") is not None
        self.samples = []  # (perf_counter, utilisation %, memory used MiB)
        self.window = [None, None]
        self._process = None

    def __enter__(self):
        if self.available:
            self._process = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits", "-lms", "100"],
                stdout=subprocess.PIPE, text=True,
            )
            threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for line in self._process.stdout:
            fields = [field.strip() for field in line.split(",")]
            try:
                self.samples.append((time.perf_counter(), float(fields[0]), float(fields[1])))
            except (IndexError, ValueError):
                continue  # a line for another GPU's error, or "[N/A]"

    def start(self):
        self.window[0] = time.perf_counter()

    def stop(self):
        self.window[1] = time.perf_counter()

    def __exit__(self, *exc):
        if self._process is not None:
            self._process.terminate()
            self._process.wait()

    def summary(self):
        """Mean and median utilisation and the largest memory use over the window; {} without samples."""
        begin, end = self.window
        inside = [s for s in self.samples if begin is not None and begin <= s[0] <= (end or float("inf"))]
        if not inside:
            return {}
        utilisation = [s[1] for s in inside]
        return {
            "gpu_utilization_mean_pct": round(statistics.mean(utilisation), 1),
            "gpu_utilization_median_pct": statistics.median(utilisation),
            "gpu_memory_used_max_mib": max(s[2] for s in inside),
            "gpu_samples": len(inside),
        }
