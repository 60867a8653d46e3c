"""How much of a model's colour is worth keeping: CIEDE2000 and colourfulness with its a, b scaled.

usage: python bench/chroma_frontier.py RUN [RUN ...] [--label NAME ...] [--scale 0.5 ...] [--eval DIR ...]
                                      [--temperature T ...] [--spare-skin] [--out JSON] [--plot PNG] [--grids DIR]
       python bench/chroma_frontier.py --compare JSON --label NAME [--compare JSON --label NAME ...] --plot PNG

The quality targets ask for two things at once: CIEDE2000 below gray's and
colourfulness (CF) near the originals'. Scaling a model's predicted a, b by
s (0 is gray, 1 the model as trained) traces the trade between them for
that model; where the curve crosses gray's CIEDE2000 is the most colour the
model gives without being farther from the truth than gray
(`cf_share_at_gray_error`, interpolated between the scales; null when
the model stays below gray's at every scale scored). With several
runs of one size it also scores their mean a, b: an ensemble, which keeps
colour where the runs agree and fades it where they do not. Runs trained
with `--ab-head classes` have a second colour knob, the annealed mean's
temperature: `--temperature T` (repeat) scores each run at each T as its
own curve ("NAME T=0.38"), the same weights, no ensemble. Every model is
scored from the network's own a, b (a preset's `saturation` setting is
not applied), scaled alike; with `--spare-skin` each scale is drawn as
`--saturation` draws it (`color.saturate`: skin hues gain less above 1).
Each photo's
network output is computed once per run; only the colouring and scoring
repeat per scale. Defaults: scales 0.25 to 1.25, on
../shared/data/dev/kodak24 and ../shared/data/dev/imagenet500.

`--compare` draws, from reports this script wrote (`--out`), one curve
each (the runs' mean where a report has one) on one figure: recipes or
budgets side by side, without scoring again.
"""

import argparse
import itertools
import json
import os

import numpy as np

from common import SHARED, machine

DEFAULT_SCALES = (0.25, 0.5, 0.75, 1.0, 1.25)
MEAN_PREFIX = "mean of "  # names the runs' ensemble in a report; --compare plots it where a report has one


def crossing(points, gray_error):
    """The colour share where the CIEDE2000 curve (sorted by scale, gray first) first rises above gray's."""
    for (cf0, de0), (cf1, de1) in itertools.pairwise(points):
        if de0 <= gray_error < de1:
            return round(cf0 + (cf1 - cf0) * (gray_error - de0) / (de1 - de0), 3)
    return None  # below gray's at every scale scored: score larger ones


def score_folder(models, folder, scales, grid=None, grid_photos=6, spare_skin=False):
    """Each model's mean CIEDE2000, CF share and PSNR at each scale over the colour photos under `folder`.

    Returns {"photos", "gray_ciede2000", "models": {name: {"by_scale": {scale:
    scores}, "cf_share_at_gray_error"}}}; a model is a list of colorizers
    whose a, b are averaged.

    With `grid` (a PNG path), also draws the first photos as the last model
    (the runs' mean where there is one) colours them at each scale.
    """
    import keras

    from keras_colorizer import color, metrics
    from keras_colorizer.data import PhotoFolder
    from keras_colorizer.evaluate import gray_baseline, thumbnail
    from keras_colorizer.inference import colorize_lightness, split_channels
    from keras_colorizer.plots import draw_grid

    photos = PhotoFolder(folder)
    size = next(iter(models.values()))[0].image_size
    grid_model = list(models)[-1]
    totals = {name: {scale: {"ciede2000": [], "cf": [], "psnr": []} for scale in scales} for name in models}
    gray_errors, original_cf, grid_rows = [], [], []
    progress = keras.utils.Progbar(len(photos), unit_name="photo")
    for i in range(len(photos)):
        original = photos.load(i)
        rgb, _ = split_channels(original)
        lightness = color.rgb_to_lab(rgb[None])[..., :1]
        gray = gray_baseline(original)
        gray_errors.append(metrics.ciede2000(original, gray))
        original_cf.append(metrics.colourfulness(original))
        row = [thumbnail(gray)]
        for name, colorizers in models.items():
            ab = np.mean([colorizer.predict_lab_ab(lightness) for colorizer in colorizers], axis=0)
            for scale in scales:
                scaled = color.normalize_ab(color.saturate(ab, scale) if spare_skin else scale * ab)
                out = colorize_lightness(lightness, lambda _, scaled=scaled: scaled, size)[0]
                out = np.round(keras.ops.convert_to_numpy(out) * 255.0).astype(np.uint8)
                total = totals[name][scale]
                total["ciede2000"].append(metrics.ciede2000(original, out))
                total["cf"].append(metrics.colourfulness(out))
                total["psnr"].append(float(metrics.psnr(original, out)))
                if name == grid_model:
                    row.append(thumbnail(out))
        if grid and len(grid_rows) < grid_photos:
            grid_rows.append((photos.name(i), row + [thumbnail(original)]))
        progress.add(1)
    if grid:
        draw_grid([images for _, images in grid_rows], grid, labels=[name for name, _ in grid_rows],
                  columns=("gray", *(f"a, b x{scale:g}" for scale in scales), "original"),
                  title=f"{grid_model}, a, b scaled")
    gray_error, cf_original = float(np.mean(gray_errors)), float(np.mean(original_cf))
    rows = {}
    for name, by_scale in totals.items():
        curve = {f"{scale:g}": {"ciede2000": round(float(np.mean(t["ciede2000"])), 2),
                                "cf_share_of_original": round(float(np.mean(t["cf"])) / cf_original, 3),
                                "psnr": round(float(np.mean(t["psnr"])), 2)} for scale, t in by_scale.items()}
        points = [(0.0, gray_error)] + [(c["cf_share_of_original"], c["ciede2000"]) for c in curve.values()]
        rows[name] = {"by_scale": curve, "cf_share_at_gray_error": crossing(points, gray_error)}
    return {"photos": len(photos), "gray_ciede2000": round(gray_error, 2), "models": rows}


def tempered(colorizers, temperatures):
    """Each classifying colorizer at each annealed-mean temperature: {"NAME T=0.38": Colorizer}, the same weights."""
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.models.ab_classes import at_temperature

    models = {}
    for name, colorizer in colorizers.items():
        for t in temperatures:
            try:
                generator = at_temperature(colorizer.generator, t)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
            models[f"{name} T={t:g}"] = Colorizer(generator, colorizer.image_size, detail_size=colorizer.detail_size)
    return models


def compare(reports, labels):
    """One figure's results from several reports of this script: each report's mean curve (or its one model), relabelled."""
    results = {}
    for path, label in zip(reports, labels):
        try:
            with open(path) as f:
                evaluations = json.load(f)["eval"]
            evaluations = {folder: (result["photos"], result["gray_ciede2000"], result["models"])
                           for folder, result in evaluations.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise SystemExit(f"error: {path}: not a report this script wrote with --out ({error!r})") from None
        for folder, (photos, gray_error, models) in evaluations.items():
            means = [name for name in models if name.startswith(MEAN_PREFIX)]
            merged = results.setdefault(folder, {"photos": photos, "gray_ciede2000": gray_error, "models": {}})
            if (merged["photos"], merged["gray_ciede2000"]) != (photos, gray_error):
                raise SystemExit(f"error: {path}: its '{folder}' is {photos} photos with gray at {gray_error}, "
                                 f"another report's {merged['photos']} at {merged['gray_ciede2000']}; "
                                 "expected the same photos in every report")
            merged["models"][label] = models[means[0] if means else next(iter(models))]
    return results


# Issue 35's targets for the ready-made model: (how far below gray's CIEDE2000, the least colour share).
TARGETS = {"imagenet500": (0.3, 0.65), "kodak24": (0.0, 0.75)}
OTHER_TARGET = (0.0, 0.7)


def plot(results, path):
    from matplotlib.figure import Figure

    from keras_colorizer.plots import save_figure

    figure = Figure(figsize=(5.5 * len(results), 4.5))
    names = list(dict.fromkeys(name for result in results.values() for name in result["models"]))
    for k, (folder, result) in enumerate(results.items()):
        axis = figure.add_subplot(1, len(results), k + 1)
        gray = result["gray_ciede2000"]
        for name, row in result["models"].items():
            scales = list(row["by_scale"])
            xs = [0.0] + [row["by_scale"][s]["cf_share_of_original"] * 100 for s in scales]
            ys = [gray] + [row["by_scale"][s]["ciede2000"] for s in scales]
            axis.plot(xs, ys, "-o", markersize=4, label=name, color=f"C{names.index(name)}")
            for s, x, y in zip(scales, xs[1:], ys[1:]):
                axis.annotate(f"x{s}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
        axis.axhline(gray, color="gray", linestyle="--", linewidth=1, label=f"gray ({gray:.2f})")
        low = axis.get_ylim()[0]
        margin, colour_target = TARGETS.get(os.path.basename(folder.rstrip("/")), OTHER_TARGET)
        below = f"{margin} below gray" if margin else "below gray"
        axis.fill_between([colour_target * 100, axis.get_xlim()[1]], low, gray - margin, color="green", alpha=0.08,
                          label=f"target: {below}, CF >= {colour_target:.0%}")
        axis.set_title(f"{folder} ({result['photos']} photos)")
        axis.set_xlabel("colourfulness, % of the originals'")
        axis.set_ylabel("mean CIEDE2000 (lower is closer)")
        axis.legend(fontsize=7, loc="best")
    figure.tight_layout()
    save_figure(figure, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", metavar="RUN", help="run or checkpoint folders (several: also their mean)")
    parser.add_argument("--label", action="append", default=None,
                        help="a name per run or --compare report (default: the run folder's name)")
    parser.add_argument("--scale", action="append", type=float, default=None, help="a, b scale (repeat for several)")
    parser.add_argument("--detail-size", type=int, default=None, metavar="PIXELS",
                        help="every run's detail size (Colorizer's detail_size; default: each model's own)")
    parser.add_argument("--network-size", type=int, default=None, metavar="PIXELS",
                        help="the side every run's network runs at (Colorizer's network_size; default: each model's own)")
    parser.add_argument("--eval", action="append", default=None, help="evaluation folder (repeat for several)")
    parser.add_argument("--temperature", action="append", type=float, default=None,
                        help="score --ab-head classes runs at this annealed-mean temperature (repeat; no ensemble)")
    parser.add_argument("--spare-skin", action="store_true",
                        help="scale as --saturation does, skin hues gaining less above 1 (default: every hue alike)")
    parser.add_argument("--grids", default=None, metavar="DIR",
                        help="draw each folder's first photos at every scale (the runs' mean) to DIR/<folder>.png")
    parser.add_argument("--out", default=None, metavar="JSON", help="also write the report to this file")
    parser.add_argument("--plot", default=None, metavar="PNG", help="draw the curves, one panel per folder")
    parser.add_argument("--compare", action="append", default=None, metavar="JSON",
                        help="plot a report written with --out (repeat; one --label each) instead of scoring runs")
    args = parser.parse_args()
    for option, path in (("--out", args.out), ("--plot", args.plot)):
        # checked before minutes of scoring, not after
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise SystemExit(f"error: {option} {path}: its folder does not exist; create it or write elsewhere")
    if args.compare:
        if args.runs or not args.plot or len(args.label or []) != len(args.compare):
            raise SystemExit("error: --compare takes reports only, one --label per report, and --plot PNG")
        plot(compare(args.compare, args.label), args.plot)
        return
    if not args.runs:
        raise SystemExit("error: expected one or more run folders (or --compare reports)")
    args.eval = args.eval or [str(SHARED / "data" / "dev" / name) for name in ("kodak24", "imagenet500")]
    scales = sorted(args.scale or DEFAULT_SCALES)
    if scales[0] <= 0:
        raise SystemExit(f"error: --scale {scales[0]:g}: expected a scale above 0 (0 is gray, always scored)")

    from keras_colorizer.atomic import write_text
    from keras_colorizer.errors import UserError
    from keras_colorizer.inference import Colorizer

    labels = args.label or [os.path.basename(os.path.normpath(run)) for run in args.runs]
    if len(labels) != len(args.runs):
        raise SystemExit(f"error: {len(labels)} --label for {len(args.runs)} runs; give one per run or none")
    if len(set(labels)) != len(labels):
        raise SystemExit(f"error: --label {labels}: two runs share a name; give each its own")
    try:
        colorizers = {label: Colorizer.load(run, detail_size=args.detail_size, network_size=args.network_size,
                                            saturation=1.0)
                      for label, run in zip(labels, args.runs)}
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
    if args.temperature:
        try:
            colorizers = tempered(colorizers, args.temperature)
        except ValueError as error:
            raise SystemExit(f"error: {error}") from None
    models = {name: [colorizer] for name, colorizer in colorizers.items()}
    sizes = {colorizer.image_size for colorizer in colorizers.values()}
    if len(colorizers) > 1 and not args.temperature:
        if len(sizes) > 1:
            raise SystemExit(f"error: the runs see different sizes ({sorted(sizes)}); expected runs of one size to average")
        models[f"{MEAN_PREFIX}{len(colorizers)} runs"] = list(colorizers.values())
    results = {}
    for folder in args.eval:
        name = os.path.basename(os.path.normpath(folder))
        grid = None
        if args.grids:
            os.makedirs(args.grids, exist_ok=True)
            grid = os.path.join(args.grids, f"{name}.png")
        try:
            results[name] = score_folder(models, folder, scales, grid=grid, spare_skin=args.spare_skin)
        except UserError as error:
            raise SystemExit(f"error: {error}") from None
    network_sizes = {name: colorizer.image_size for name, colorizer in colorizers.items()}
    report = json.dumps({"machine": machine(), "runs": args.runs, "network_sizes": network_sizes, "eval": results}, indent=1)
    print(report)
    if args.out:
        write_text(args.out, report + "\n")  # an earlier report stays whole until this one is
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
