"""How well the frozen ImageNet encoder knows what a gray photo shows, at the sides training and inference show it.

usage: python bench/encoder_recognition.py [--photos DIR] [--every N] [--view NAME ...] [--out JSON]

A generator on a frozen encoder can only learn an object's colour from
features that tell the object apart. This runs the encoder's own ImageNet
classifier (EfficientNet-Lite0, the weights the generators start from) on
photos of `dev/imagenet500`, whose file k is ImageNet class 2k + 1, each
centre-cropped to 224 as ImageNet's evaluation does and then seen as:

- `rgb224`: in colour at 224 (what the classifier was trained on);
- `grayS`: gray, at S x S (S = 224, 160, 128): what the network sees of a
  sharp photo at inference (`--network-size S`);
- `gray64toS`: gray, shrunk to 64 x 64 and enlarged to S x S: what it sees
  of a Tiny ImageNet photo in training at `--image-size S`.

It prints top-1 and top-5 accuracy per view, and writes them to `--out`.
"""

import argparse
import json
import os

import numpy as np

from common import SHARED, machine

VIEWS = ("rgb224", "gray224", "gray160", "gray128", "gray64to224", "gray64to160", "gray64to128")
CROP = 224


def centre_crop(path, size=CROP):
    """The photo resized so its short side is 256/224 of `size`, its centre `size` x `size` (PIL image)."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    scale = size * 256 / 224 / min(image.size)
    image = image.resize((round(image.size[0] * scale), round(image.size[1] * scale)), Image.BICUBIC)
    left, top = (image.size[0] - size) // 2, (image.size[1] - size) // 2
    return image.crop((left, top, left + size, top + size))


def view(image, name):
    """The uint8 RGB array (S, S, 3) the classifier is shown for the view `name` of `VIEWS`."""
    from PIL import Image

    if name == "rgb224":
        return np.asarray(image.resize((224, 224), Image.BICUBIC))
    if not name.startswith("gray"):
        raise ValueError(f"Unknown view. Expected one of {', '.join(VIEWS)}. Received: {name!r}")
    gray = image.convert("L")
    if name.startswith("gray64to"):
        side = int(name[len("gray64to"):])
        gray = gray.resize((64, 64), Image.BICUBIC).resize((side, side), Image.BILINEAR)
    else:
        gray = gray.resize((int(name[len("gray"):]),) * 2, Image.BICUBIC)
    return np.repeat(np.asarray(gray)[..., None], 3, axis=-1)


def accuracy(logits, labels):
    """(top-1, top-5) shares of `labels` among the logits' best classes."""
    ranked = np.argsort(-np.asarray(logits), axis=1)
    labels = np.asarray(labels)[:, None]
    return float(np.mean(ranked[:, :1] == labels)), float(np.mean((ranked[:, :5] == labels).any(axis=1)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", default=str(SHARED / "data" / "dev" / "imagenet500"),
                        help="a folder laid out as dev/imagenet500: its k-th file (sorted) is ImageNet class 2k + 1")
    parser.add_argument("--every", type=int, default=5, help="score every N-th photo (default: 5, 100 of the 500)")
    parser.add_argument("--view", action="append", choices=VIEWS, default=None, help="a view to score (repeat; default: all)")
    parser.add_argument("--out", default=None, metavar="JSON", help="also write the accuracies to this file")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.photos):
        raise SystemExit(f"error: --photos {args.photos}: no such folder")
    if args.every < 1:
        raise SystemExit(f"error: --every must be at least 1. Received: {args.every}")

    from keras_colorizer.models.backbones import efficientnet_lite

    classifier = efficientnet_lite.efficientnet_lite0_classifier(input_size=None)
    classifier.load_weights(efficientnet_lite.imagenet_weights())
    names = sorted(os.listdir(args.photos))
    picked = list(range(0, len(names), args.every))
    crops = [centre_crop(os.path.join(args.photos, names[k])) for k in picked]
    labels = [2 * k + 1 for k in picked]
    results = {}
    for name in args.view or VIEWS:
        batch = np.stack([view(crop, name) for crop in crops]).astype("float32")
        logits = classifier.predict(efficientnet_lite.preprocess(batch), batch_size=25, verbose=0)
        top1, top5 = accuracy(logits, labels)
        results[name] = {"top1": round(top1, 3), "top5": round(top5, 3)}
        print(f"{name:>12}: top-1 {top1:.0%}, top-5 {top5:.0%}", flush=True)
    report = {"machine": machine(), "photos": len(picked), "folder": args.photos, "views": results}
    if args.out:
        from keras_colorizer.atomic import write_text

        write_text(args.out, json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
