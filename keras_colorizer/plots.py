"""Pictures people look at: grids of gray input | colorized | original, and score distributions.

Figures are drawn on `matplotlib.figure.Figure` objects, not through
pyplot, so importing the library leaves matplotlib's backend alone.
"""


import numpy as np
from matplotlib.figure import Figure

from keras_colorizer.atomic import replacing


def save_figure(fig, path, dpi=100):
    """Write a figure as PNG, atomically: `path` is never half a PNG."""
    with replacing(path, ".png") as tmp:
        fig.savefig(tmp, dpi=dpi)
    return path


def draw_grid(rows, path, title=None, columns=("gray input", "colorized", "original"), labels=None):
    """Save a PNG grid: one row per photo, one column per uint8 image in each row."""
    rows = list(rows)
    n_cols = len(columns)
    fig = Figure(figsize=(2.6 * n_cols, 2.6 * len(rows)))
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            ax = axes[r, c]
            ax.imshow(np.asarray(image), cmap="gray" if np.ndim(image) == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c], fontsize=10)
            if c == 0 and labels is not None:
                ax.set_ylabel(labels[r], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)


def draw_score_plot(rows, path):
    """Distributions of per-photo scores (dicts with psnr, ciede2000, cf and their gray_ twins), model against gray."""
    panels = (("psnr", "PSNR (dB), higher is closer"), ("ciede2000", "CIEDE2000, lower is closer"), ("cf", "colourfulness"))
    fig = Figure(figsize=(4.2 * len(panels), 3.4))
    axes = fig.subplots(1, len(panels))
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
    return save_figure(fig, path)
