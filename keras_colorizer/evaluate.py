"""Score a colorizer against colour photos: PSNR, SSIM, CIEDE2000 and colourfulness, beside a gray baseline.

Each photo is turned gray, colorized at its own resolution (as `Colorizer`
does) and compared with the original. The same scores for a gray baseline
(a = b = 0) say how far the model is above doing nothing. The model may be
a training run or checkpoint, an exported SavedModel or a `.tflite` file:
all three go through `Colorizer.load` and the same colorization recipe.
Per-photo rows are written to `scores.csv` as they come, so a failure late
in a long folder loses nothing scored before it. The command line is
`keras_colorizer.cli.evaluate` (`keras-colorizer evaluate`).
"""

import csv
import json
import os

import numpy as np

SCORES = ("psnr", "ssim", "ciede2000", "cf", "cf_original", "dcf")
GRAY_SCORES = ("psnr", "ssim", "ciede2000", "cf")
COLUMNS = ("photo", "height", "width", *SCORES, *(f"gray_{key}" for key in GRAY_SCORES), "note")


def gray_baseline(rgb):
    """The photo with its own L and no colour (a = b = 0), uint8 RGB."""
    from keras_colorizer import color

    gray = np.asarray(color.rgb_to_gray(rgb))
    return np.repeat(np.round(gray * 255.0).astype(np.uint8), 3, axis=-1)


def thumbnail(image, longest=256):
    """The image scaled down so its longer side is at most `longest` pixels."""
    from PIL import Image

    scale = longest / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))


def _mean(rows, key):
    values = [row[key] for row in rows if np.isfinite(row[key])]
    return float(np.mean(values)) if values else float("nan")


def score_photo(name, original, colorized):
    """One CSV row: the model's and the gray baseline's scores; a score that cannot be taken is NaN, with a note."""
    from keras_colorizer import metrics

    gray = gray_baseline(original)
    row = {"photo": name, "height": original.shape[0], "width": original.shape[1]}
    row.update(metrics.score(original, colorized))
    gray_scores = metrics.score(original, gray)
    row.update({f"gray_{key}": gray_scores[key] for key in GRAY_SCORES})
    row["note"] = metrics.unscored_reason(original) or ""
    return row, gray


def summarize(model, data, rows, photos, colorizer):
    return {
        "model": model if isinstance(model, str) else os.fspath(model) if isinstance(model, os.PathLike) else repr(model),
        "data": os.fspath(data),
        "photos": len(rows),
        "grayscale_skipped": len(photos.report.grayscale_skipped),
        "unreadable_skipped": len(photos.report.unreadable),
        "network_size": colorizer.image_size,
        "detail_size": colorizer.detail_size,
        "saturation": colorizer.saturation,
        "model_scores": {key: _mean(rows, key) for key in SCORES},
        "gray_scores": {key: _mean(rows, f"gray_{key}") for key in GRAY_SCORES},
    }


def evaluate(model, data, out, grid_photos=6, verbose=True, name=None, detail_size=None, network_size=None,
             saturation=None):
    """Score `model` on the colour photos under `data`; write CSV, JSON and figures to `out`; return the summary.

    `model` is what `Colorizer.load` takes, or a `Colorizer`. `name` titles
    the grid and is the summary's `model` (default: the model's path; give
    one for a `Colorizer`, which has none). `detail_size`, `network_size`
    and `saturation` are `Colorizer.load`'s (default: the model's own
    settings); the summary records the ones used.
    """
    import keras

    from keras_colorizer.data import PhotoFolder
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.plots import draw_grid, draw_score_plot

    from keras_colorizer.data.kaggle import is_kaggle_layout
    from keras_colorizer.errors import UserError

    colorizer = model if isinstance(model, Colorizer) else Colorizer.load(model, detail_size=detail_size,
                                                                          network_size=network_size, saturation=saturation)
    if os.path.isdir(data) and is_kaggle_layout(data):
        raise UserError(
            f"{data}: is the Kaggle .npy layout; evaluate takes a folder of colour photos (export some with their "
            "original colours as image files)"
        )
    photos = PhotoFolder(data)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise UserError(f"{out}: cannot write the results there ({error.strerror or error}); choose another --out") from None
    rows, grid = [], []
    progress = keras.utils.Progbar(len(photos), unit_name="photo", verbose=1 if verbose else 0)
    with open(os.path.join(out, "scores.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for i in range(len(photos)):
            original = photos.load(i)
            colorized = colorizer.colorize(original)
            row, gray = score_photo(photos.name(i), original, colorized)
            writer.writerow(row)
            f.flush()
            rows.append(row)
            if len(grid) < grid_photos:
                grid.append((photos.name(i), [thumbnail(x) for x in (gray, colorized, original)]))
            progress.add(1)

    summary = summarize(name or model, data, rows, photos, colorizer)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    if grid:
        draw_grid([images for _, images in grid], os.path.join(out, "grid.png"), columns=("gray", "colorized", "original"),
                  labels=[name for name, _ in grid], title=os.path.basename(os.path.normpath(summary["model"])))
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

