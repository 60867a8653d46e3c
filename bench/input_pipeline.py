"""Training input pipeline throughput (images/s) and memory.

usage: python bench/input_pipeline.py [--size 256] [--batch 16] [--folder DIR]
                                      [--npy-images 25000] [--npy-dir DIR]

Measures, on this machine:
- a photo folder (default ../shared/data/train/bsds500): the scan that opens it
  (decodes every photo once, checks it, keeps it resized in memory as
  `train.py` does), then the first and later passes of the pipeline; and,
  for comparison, a first pass that decodes the files (no scan cache);
- the Kaggle npy layout at full size (25,000 images of 224x224, 3.7 GB, written
  once to --npy-dir), streamed from memory-mapped arrays: images/s and the
  growth of resident memory over the whole pass; then read into memory as
  `--cache` does, and a second pass from there. The host crops these at
  their own size (the training step resizes them), see data/pipeline.py.
The pipeline hands uint8 batches to the model (the Lab conversion runs in the
training step), which is what is timed here. Prints one JSON line.
"""

import argparse
import os
import threading
import time

import numpy as np
import psutil

from common import SHARED, report

from keras_colorizer.data import load_size, open_source, training_dataset


def throughput(dataset, batches):
    start, images = time.perf_counter(), 0
    for batch in dataset.take(batches):
        images += int(batch.shape[0])
    return images / (time.perf_counter() - start)


class PeakRss:
    """Sample this process's resident memory in a thread; keep the peak."""

    def __init__(self):
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def write_full_layout(root, count):
    """The Kaggle layout at full size, filled with varied bytes (written once)."""
    parts = (count * 2 // 5, count * 2 // 5, count - 2 * (count * 2 // 5))
    l_path = os.path.join(root, "l", "gray_scale.npy")
    if os.path.isfile(l_path) and np.load(l_path, mmap_mode="r").shape[0] == count:
        return
    os.makedirs(os.path.join(root, "l"), exist_ok=True)
    os.makedirs(os.path.join(root, "ab", "ab"), exist_ok=True)
    rng = np.random.default_rng(0)
    tile = rng.integers(0, 256, size=(64, 224, 224), dtype=np.uint8)
    l8 = np.lib.format.open_memmap(l_path, mode="w+", dtype=np.uint8, shape=(count, 224, 224))
    for start in range(0, count, 64):
        l8[start : start + 64] = tile[: min(64, count - start)]
    l8.flush()
    del l8
    ab_tile = rng.integers(100, 156, size=(64, 224, 224, 2), dtype=np.uint8)
    for k, n in enumerate(parts, start=1):
        ab = np.lib.format.open_memmap(os.path.join(root, "ab", "ab", f"ab{k}.npy"), mode="w+", dtype=np.uint8, shape=(n, 224, 224, 2))
        for start in range(0, n, 64):
            ab[start : start + 64] = ab_tile[: min(64, n - start)]
        ab.flush()
        del ab


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--folder", default=str(SHARED / "data" / "train" / "bsds500"))
    parser.add_argument("--npy-images", type=int, default=25000)
    parser.add_argument("--npy-dir", default="/tmp/keras_colorizer_bench_kaggle")
    args = parser.parse_args()
    results = {"size": args.size, "batch": args.batch}

    start = time.perf_counter()
    photos = open_source(args.folder, cache_short_side=load_size(args.size, True), cache_budget_bytes=4 * 2**30)
    results["folder"] = args.folder
    results["folder_scan_seconds"] = round(time.perf_counter() - start, 2)
    n = len(photos)
    dataset = training_dataset(photos, range(n), args.size, args.batch, seed=0)
    results["folder_photos"] = n
    results["folder_first_pass_images_per_s"] = round(throughput(dataset, n // args.batch), 1)
    results["folder_later_passes_images_per_s"] = round(throughput(dataset, 3 * n // args.batch), 1)
    uncached = open_source(args.folder)
    uncached.enable_cache()
    dataset = training_dataset(uncached, range(n), args.size, args.batch, seed=0)
    results["folder_first_pass_decoding_images_per_s"] = round(throughput(dataset, n // args.batch), 1)

    write_full_layout(args.npy_dir, args.npy_images)
    kaggle = open_source(args.npy_dir)
    dataset = training_dataset(kaggle, range(len(kaggle)), args.size, args.batch, seed=0)
    rss_before = psutil.Process().memory_info().rss
    with PeakRss() as peak:
        rate = throughput(dataset, len(kaggle) // args.batch)
    results["npy_images"] = len(kaggle)
    results["npy_batch_shape"] = list(next(iter(dataset)).shape)  # host crops; the step resizes to --size
    results["npy_images_per_s"] = round(rate, 1)
    results["npy_peak_rss_growth_mb"] = round((peak.peak - rss_before) / 2**20, 1)
    results["npy_peak_rss_mb"] = round(peak.peak / 2**20, 1)
    del kaggle, dataset
    start = time.perf_counter()
    cached = open_source(args.npy_dir, cache=True)  # --cache: the arrays read into memory
    results["npy_cache_load_seconds"] = round(time.perf_counter() - start, 1)
    dataset = training_dataset(cached, range(len(cached)), args.size, args.batch, seed=0)
    results["npy_cached_images_per_s"] = round(throughput(dataset, len(cached) // args.batch), 1)
    report(results)


if __name__ == "__main__":
    main()
