"""Several colorizers on the same photos, side by side: gray, each model, the original (a picture for the docs).

usage: python bench/side_by_side.py MODEL [MODEL ...] --label NAME [--label NAME ...] --photos FILE [FILE ...]
                                    --out PICTURE.jpg [--longest 200] [--detail-size N ...] [--saturation S ...]
                                    [--network-size N ...]

Each MODEL is what `Colorizer.load` takes (a run, checkpoint, preset name,
SavedModel or .tflite); `--detail-size`, `--network-size` and `--saturation`, once
per model where given, are its `Colorizer`'s (a detail size of the network's
size: none; a network size of 0: the model's own). Photos are shrunk so their longer side is
`--longest` pixels after colorizing at full size; a `.jpg` output is
written at quality 75, so the picture stays small enough for the repository.
"""

import argparse
import os
import tempfile


import common  # noqa: F401 - the repository on the path

from keras_colorizer.data.images import read_image
from keras_colorizer.evaluate import gray_baseline, thumbnail
from keras_colorizer.inference import Colorizer
from keras_colorizer.plots import draw_grid


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--label", action="append", required=True)
    parser.add_argument("--photos", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--longest", type=int, default=200)
    parser.add_argument("--detail-size", type=int, action="append", default=None)
    parser.add_argument("--network-size", type=int, action="append", default=None)
    parser.add_argument("--saturation", type=float, action="append", default=None)
    args = parser.parse_args()
    if len(args.label) != len(args.models):
        parser.error("give one --label per model")
    details = args.detail_size or [None] * len(args.models)
    sides = [side or None for side in args.network_size or [0] * len(args.models)]
    saturations = args.saturation or [None] * len(args.models)  # None: each model's own
    if not len(details) == len(sides) == len(saturations) == len(args.models):
        parser.error("give --detail-size, --network-size and --saturation once per model, or not at all")
    colorizers = [Colorizer.load(model, saturation=saturation, detail_size=detail, network_size=side)
                  for model, saturation, detail, side in zip(args.models, saturations, details, sides)]
    rows = []
    for path in args.photos:
        original = read_image(path)
        row = [gray_baseline(original)] + [c.colorize(original) for c in colorizers] + [original]
        rows.append([thumbnail(image, args.longest) for image in row])
    labels = [os.path.splitext(os.path.basename(p))[0][:24] for p in args.photos]
    columns = ("gray input", *args.label, "original")
    if args.out.lower().endswith((".jpg", ".jpeg")):
        from PIL import Image

        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "grid.png")
            draw_grid(rows, png, columns=columns, labels=labels)
            Image.open(png).convert("RGB").save(args.out, quality=75, optimize=True)
    else:
        draw_grid(rows, args.out, columns=columns, labels=labels)
    print(f"{args.out}: {os.path.getsize(args.out) / 1e3:.0f} kB, {len(rows)} photos x {len(columns)} columns")


if __name__ == "__main__":
    main()
