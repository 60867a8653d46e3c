"""Score a colorizer against colour photos: `python -m keras_colorizer.evaluate --model M --data DIR --out DIR`.

Each photo is turned gray, colorized at its own resolution (as `Colorizer`
does) and compared with the original: PSNR, SSIM, mean CIEDE2000 and
colourfulness. The same scores for a gray baseline (a = b = 0) say how far
the model is above doing nothing. The model may be a training run or
checkpoint, an exported SavedModel or a `.tflite` file: all three go through
`Colorizer.load` and the same colorization recipe.
"""

import argparse
import csv
import json
import os
import sys

import numpy as np

from keras_colorizer.cli.common import fail, quiet_tensorflow

SCORES = ("psnr", "ssim", "ciede2000", "cf", "cf_original", "dcf")
GRAY_SCORES = ("psnr", "ssim", "ciede2000", "cf")


def gray_baseline(rgb):
    """The photo with its own L and no colour (a = b = 0), uint8 RGB."""
    from keras_colorizer import color

    gray = np.asarray(color.rgb_to_gray(rgb))
    return np.repeat(np.round(gray * 255.0).astype(np.uint8), 3, axis=-1)


def _thumbnail(image, longest=256):
    from PIL import Image

    scale = longest / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))


def _mean(rows, key):
    values = [row[key] for row in rows if np.isfinite(row[key])]
    return float(np.mean(values)) if values else float("nan")


def draw_score_plot(rows, path):
    """Distributions of the per-photo scores, model against the gray baseline."""
    from keras_colorizer.plots import plt

    panels = (("psnr", "PSNR (dB), higher is closer"), ("ciede2000", "CIEDE2000, lower is closer"), ("cf", "colourfulness"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    for ax, (key, title) in zip(axes, panels):
        model = [row[key] for row in rows if np.isfinite(row[key])]
        gray = [row[f"gray_{key}"] for row in rows if np.isfinite(row[f"gray_{key}"])]
        data, labels = [model, gray], ["model", "gray"]
        if key == "cf":
            data.append([row["cf_original"] for row in rows])
            labels.append("original")
        ax.boxplot(data, tick_labels=labels)
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"{len(rows)} photos", fontsize=11)
    fig.tight_layout()
    tmp = f"{path}.tmp-{os.getpid()}.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def evaluate(model, data, out, grid_photos=6, verbose=True):
    """Score `model` on the colour photos under `data`; write CSV, JSON and figures to `out`; return the summary."""
    import keras

    from keras_colorizer import metrics
    from keras_colorizer.data import PhotoFolder
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.plots import draw_grid

    colorizer = Colorizer.load(model)
    photos = PhotoFolder(data)
    os.makedirs(out, exist_ok=True)
    rows, grid = [], []
    progress = keras.utils.Progbar(len(photos), unit_name="photo", verbose=1 if verbose else 0)
    for i in range(len(photos)):
        original = photos.load(i)
        colorized = colorizer.colorize(original)
        gray = gray_baseline(original)
        row = {"photo": photos.name(i), "height": original.shape[0], "width": original.shape[1]}
        row.update(metrics.score(original, colorized))
        gray_scores = metrics.score(original, gray)
        row.update({f"gray_{key}": gray_scores[key] for key in GRAY_SCORES})
        rows.append(row)
        if len(grid) < grid_photos:
            grid.append((photos.name(i), [_thumbnail(x) for x in (gray, colorized, original)]))
        progress.add(1)

    with open(os.path.join(out, "scores.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = {
        "model": os.fspath(model),
        "data": os.fspath(data),
        "photos": len(rows),
        "grayscale_skipped": len(photos.report.grayscale_skipped),
        "unreadable_skipped": len(photos.report.unreadable),
        "network_size": colorizer.image_size,
        "model_scores": {key: _mean(rows, key) for key in SCORES},
        "gray_scores": {key: _mean(rows, f"gray_{key}") for key in GRAY_SCORES},
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    draw_grid([images for _, images in grid], os.path.join(out, "grid.png"), columns=("gray", "colorized", "original"),
              labels=[name for name, _ in grid], title=os.path.basename(os.path.normpath(os.fspath(model))))
    draw_score_plot(rows, os.path.join(out, "scores.png"))
    return summary


def summary_table(summary):
    m, g = summary["model_scores"], summary["gray_scores"]
    lines = [
        f"{summary['photos']} photos ({summary['grayscale_skipped']} grayscale and {summary['unreadable_skipped']} unreadable skipped)",
        f"{'':10} {'PSNR dB':>8} {'SSIM':>6} {'CIEDE2000':>10} {'CF':>6}",
        f"{'model':10} {m['psnr']:8.2f} {m['ssim']:6.3f} {m['ciede2000']:10.2f} {m['cf']:6.1f}",
        f"{'gray':10} {g['psnr']:8.2f} {g['ssim']:6.3f} {g['ciede2000']:10.2f} {g['cf']:6.1f}",
        f"{'original':10} {'':>8} {'':>6} {'':>10} {m['cf_original']:6.1f}",
    ]
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m keras_colorizer.evaluate",
        description="Score a colorizer against colour photos (PSNR, SSIM, CIEDE2000, colourfulness), "
        "with a gray baseline; writes scores.csv, summary.json, grid.png and scores.png.",
    )
    parser.add_argument("--model", required=True, help="a run or checkpoint folder, an exported SavedModel folder, or a .tflite file")
    parser.add_argument("--data", required=True, help="a folder of colour photos (searched recursively)")
    parser.add_argument("--out", required=True, help="folder for the scores and figures")
    parser.add_argument("--grid-photos", type=int, default=6, help="photos shown in grid.png (default: 6)")
    return parser


def main(argv=None):
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    from keras_colorizer.errors import UserError

    try:
        summary = evaluate(args.model, args.data, args.out, grid_photos=args.grid_photos)
    except UserError as error:
        return fail(error)
    print(summary_table(summary))
    print(f"Wrote {os.path.join(args.out, 'scores.csv')}, summary.json, grid.png and scores.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
