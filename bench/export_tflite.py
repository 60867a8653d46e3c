"""Export time and LiteRT latency of `unet_256`, next to the PyTorch reference's inference in the same run.

usage: python bench/export_tflite.py [--generator unet_256] [--size 256] [--out /tmp/kc_export_bench]
                                     [--checkpoint RUN_OR_CHECKPOINT]

Without --checkpoint it saves a freshly initialised generator (N(0, 0.02))
as a checkpoint, so latency and size are those of the real architecture but
the agreement figures describe an untrained network. Runs `python -m keras_colorizer.export`
(all formats and variants, timed), times each file's `predict_ab` signature
(the network alone) beside the report's `colorize` time (their difference
is the colour conversion's share, to within the timing noise), then
../shared/bench/ref_pix2pix_torch.py for the eager PyTorch inference time.
Prints one JSON line.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from common import REFERENCE_LEVELS, REPO, SHARED, report

from keras_colorizer.export.report import litert_latency_ms


def make_checkpoint(generator, size, folder):
    from keras_colorizer.run.checkpoint import save_checkpoint
    from keras_colorizer.run.options import TrainOptions
    from keras_colorizer.run.assemble import build_model

    options = TrainOptions(generator=generator, image_size=size, ngf=64, ndf=64, batch_size=1, epochs=1, steps_per_epoch=1)
    model = build_model(options, "rgb", steps_per_epoch=1)
    return save_checkpoint(model, folder, 0, options.to_dict())


def torch_inference_ms(size, downs):
    script = SHARED / "bench" / "ref_pix2pix_torch.py"
    try:
        import torch  # noqa: F401 - only to see whether PyTorch is installed
    except ImportError:
        return None
    out = subprocess.run(
        [sys.executable, str(script), "--size", str(size), "--steps", "1", "--infer", "10", "--downs", str(downs)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["infer_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", default="unet_256")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "kc_export_bench"))
    parser.add_argument("--checkpoint", default=None)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    checkpoint = args.checkpoint or make_checkpoint(args.generator, args.size, os.path.join(work, "run"))
    shutil.rmtree(args.out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "keras_colorizer.export", checkpoint, "--out", args.out, "--size", str(args.size)], cwd=REPO, check=True)
    export_s = time.perf_counter() - start
    with open(os.path.join(args.out, "report.json")) as f:
        rows = json.load(f)
    variants = {row["artifact"].split("colorizer_")[-1].replace(".tflite", ""): row for row in rows if row["artifact"].endswith(".tflite")}
    # The PyTorch reference is the pix2pix U-Net: timed only beside a U-Net generator.
    torch_ms = torch_inference_ms(args.size, REFERENCE_LEVELS[args.generator]) if args.generator in REFERENCE_LEVELS else None
    result = {
        "generator": args.generator,
        "size": args.size,
        "trained": bool(args.checkpoint),
        "export_seconds": round(export_s, 1),
        "saved_model_mb": round(next(r["size_mb"] for r in rows if r["artifact"].startswith("serving")), 1),
        "tflite": {
            name: {k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items() if k != "artifact"}
            for name, row in variants.items()
        },
        "torch_eager_infer_ms": torch_ms,
    }
    probe = np.full((1, args.size, args.size, 1), 128, np.uint8)  # latency does not depend on the pixels
    for name, row in variants.items():
        network = litert_latency_ms(os.path.join(args.out, row["artifact"]), probe, 2, signature="predict_ab")
        result["tflite"][name]["network_only_ms_2_threads"] = round(network, 2)
        result["tflite"][name]["colorize_minus_predict_ab_ms"] = round(row["latency_ms_2_threads"] - network, 2)
    f32 = variants.get("float32", {}).get("latency_ms_2_threads")
    i8 = variants.get("int8", {}).get("latency_ms_2_threads")
    if f32 and i8:
        result["int8_over_float32"] = round(i8 / f32, 3)
    if torch_ms and f32:
        result["torch_over_tflite_float32"] = round(torch_ms / f32, 2)
    if torch_ms and i8:
        result["torch_over_tflite_int8"] = round(torch_ms / i8, 2)
    shutil.rmtree(work, ignore_errors=True)
    report(result)


if __name__ == "__main__":
    main()
