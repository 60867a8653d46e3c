"""Where a model loses to gray: per-photo CIEDE2000 against gray's, by how colourful each photo is.

usage: python bench/against_gray.py EVAL_DIR [EVAL_DIR ...] [--plot PNG] [--label NAME ...]

Each EVAL_DIR is a folder `keras-colorizer evaluate` wrote (its
scores.csv). Gray's CIEDE2000 on a photo is how far its colours are from
neutral, so it sorts the photos from nearly neutral (a metal object on a
white ground) to vivid. For each band the report gives the photos, the
model's and gray's mean CIEDE2000 and the share of photos where the model
is closer to the truth than gray; the mean over all photos is the
photo-weighted sum of the bands. `--plot` draws each folder's photos as
points (gray's CIEDE2000 across, the model's minus gray's up), the
per-band means as a line: below zero the model beats gray.
"""

import argparse
import csv
import json
import os

import numpy as np

BANDS = ((0, 6), (6, 10), (10, 15), (15, float("inf")))


def read_scores(folder):
    """(gray's CIEDE2000, the model's) per scored photo of one evaluation folder, as two arrays."""
    path = os.path.join(folder, "scores.csv")
    if not os.path.isfile(path):
        raise SystemExit(f"error: {path}: no such file; expected a folder keras-colorizer evaluate wrote")
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["ciede2000"] not in ("", "nan") and r["gray_ciede2000"] not in ("", "nan")]
    gray = np.array([float(r["gray_ciede2000"]) for r in rows])
    model = np.array([float(r["ciede2000"]) for r in rows])
    return gray, model


def breakdown(gray, model):
    """Per band of gray's CIEDE2000: photos, mean CIEDE2000 of model and gray, share of photos the model wins."""
    bands = []
    for low, high in BANDS:
        inside = (gray >= low) & (gray < high)
        if not inside.any():
            continue
        bands.append({
            "gray_ciede2000_band": f"{low:g}-{high:g}",
            "photos": int(inside.sum()),
            "model_ciede2000": round(float(model[inside].mean()), 2),
            "gray_ciede2000": round(float(gray[inside].mean()), 2),
            "share_better_than_gray": round(float((model[inside] < gray[inside]).mean()), 3),
        })
    return {
        "photos": int(gray.size),
        "model_ciede2000": round(float(model.mean()), 2),
        "gray_ciede2000": round(float(gray.mean()), 2),
        "share_better_than_gray": round(float((model < gray).mean()), 3),
        "bands": bands,
    }


def plot(results, path):
    from matplotlib.figure import Figure

    from keras_colorizer.plots import save_figure

    figure = Figure(figsize=(7, 4.5))
    axis = figure.add_subplot(1, 1, 1)
    for label, (gray, model) in results.items():
        points = axis.scatter(gray, model - gray, s=6, alpha=0.35, label=label)
        centres = [(gray[(gray >= lo) & (gray < hi)].mean(), (model - gray)[(gray >= lo) & (gray < hi)].mean())
                   for lo, hi in BANDS if ((gray >= lo) & (gray < hi)).any()]
        axis.plot(*zip(*centres), "-o", color=points.get_facecolor()[0][:3], linewidth=2)
    axis.axhline(0.0, color="black", linewidth=0.8)
    axis.set_xlabel("gray's CIEDE2000 (how far the photo is from neutral)")
    axis.set_ylabel("model's CIEDE2000 minus gray's (below 0: better than gray)")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", metavar="EVAL_DIR")
    parser.add_argument("--label", action="append", default=None, help="a name per folder for the plot (default: the path)")
    parser.add_argument("--plot", default=None, metavar="PNG")
    args = parser.parse_args()
    labels = args.label or args.folders
    if len(labels) != len(args.folders):
        raise SystemExit(f"error: {len(labels)} --label for {len(args.folders)} folders; give one per folder or none")
    results = {label: read_scores(folder) for label, folder in zip(labels, args.folders)}
    print(json.dumps({label: breakdown(*scores) for label, scores in results.items()}, indent=1))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
