"""A folder of 100,000 photos (Tiny ImageNet's training set): opening it, and feeding the training step.

usage: python bench/large_folder.py DIR [--size 128] [--batch 8] [--batches 300] [--steps 20] [--full-scan]

Measures, on this machine:
- the time to open DIR as `train.py` does (files listed, checked as they are
  read) and, with --full-scan, as it did before (every photo decoded and
  checked before the first step);
- the input pipeline alone: images/s of jittered uint8 crops at --size in
  batches of --batch, after a warm-up batch, over --batches batches;
- the training step of the default generator (frozen ImageNet encoder, as
  `python train.py --image-size SIZE --batch-size BATCH` builds it) on
  those batches: images/s over --steps steps after two warm-up steps;
- their ratio: how many times faster than the step the pipeline is (the
  issue asks for at least 5x at 128 on 2 cores).
Prints one JSON line.
"""

import argparse
import time

import numpy as np

from common import report

from keras_colorizer.data import PhotoFolder, load_size, open_source, training_dataset


def pipeline_rate(source, size, batch, batches):
    # Every batch taken is consumed whole (`take`): an endless stream dropped with reads in flight can hang
    # TensorFlow's py-function threads at shutdown.
    stream = training_dataset(source, np.arange(len(source)), size, batch, seed=0).take(batches + 1)
    start = None
    for _ in stream:
        start = start or time.perf_counter()  # after the first (warm-up) batch
    return batches * batch / (time.perf_counter() - start)


def step_rate(source, size, batch, steps):
    from keras_colorizer.run.assemble import build_model
    from keras_colorizer.run.options import TrainOptions

    options = TrainOptions(image_size=size, batch_size=batch).validate()
    model = build_model(options, source.encoding, steps_per_epoch=1000)
    batches = list(training_dataset(source, np.arange(len(source)), size, batch, seed=1).take(steps + 2))
    model.make_train_function()
    train_step = model.train_function
    for b in batches[:2]:
        train_step(iter([b]))
    start = time.perf_counter()
    for b in batches[2:]:
        train_step(iter([b]))
    return steps * batch / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--full-scan", action="store_true")
    args = parser.parse_args()
    results = {"folder": args.folder, "size": args.size, "batch": args.batch}
    start = time.perf_counter()
    source = open_source(args.folder, cache_short_side=load_size(args.size, True), cache_budget_bytes=4 * 2**30)
    results["open_seconds"] = round(time.perf_counter() - start, 2)
    results["files"] = len(source)
    if args.full_scan:
        start = time.perf_counter()
        scanned = PhotoFolder(args.folder, check_on_open=True)
        results["full_scan_seconds"] = round(time.perf_counter() - start, 1)
        results["full_scan_found"] = scanned.report.summary()
    results["pipeline_images_per_s"] = round(pipeline_rate(source, args.size, args.batch, args.batches), 1)
    results["step_images_per_s"] = round(step_rate(source, args.size, args.batch, args.steps), 1)
    results["pipeline_over_step"] = round(results["pipeline_images_per_s"] / results["step_images_per_s"], 1)
    report(results)


if __name__ == "__main__":
    main()
