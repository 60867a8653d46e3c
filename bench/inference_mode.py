"""Inference as the paper runs it (dropout and batch statistics on) against Keras' inference mode.

usage: python bench/inference_mode.py RUN [--eval DIR ...]

Scores one trained run twice on each folder (default: Kodak24 and
imagenet500): `training=False` (moving batch-norm statistics, no dropout;
what Colorizer does) and `training=True` (each photo's own statistics and
dropout, as pix2pix's test script runs it). Prints one JSON line.
"""

import argparse
import os
import tempfile

from common import SHARED, report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--eval", action="append", default=None)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "kc_inference_mode"))
    args = parser.parse_args()
    folders = args.eval or [str(SHARED / "data" / "dev" / name) for name in ("kodak24", "imagenet500")]

    from keras_colorizer.evaluate import evaluate
    from keras_colorizer.inference import Colorizer
    from quality import brief

    inference = Colorizer.load(args.run)
    generator = inference.generator
    paper = Colorizer(None, inference.image_size, predict_ab=lambda l_norm: generator(l_norm, training=True))
    results = {}
    for folder in folders:
        name = os.path.basename(os.path.normpath(folder))
        for mode, colorizer in (("training=False", inference), ("training=True", paper)):
            summary = evaluate(colorizer, folder, os.path.join(args.out, name, mode), verbose=False)
            results[f"{name} {mode}"] = brief(summary)
    report({"run": args.run, "results": results})


if __name__ == "__main__":
    main()
