"""Train with a stated budget on one photo folder, evaluate on another, print the scores as JSON.

usage: python bench/quality.py [--train DIR] [--eval DIR] [--steps 800] [--set OPTION=VALUE ...]

Defaults: train on ../shared/data/train/bsds500 and evaluate on
../shared/data/dev/kodak24; `unet_128` (ngf 64, ndf 64) on 128x128 crops,
batch 4, 800 steps in 10 epochs (the CPU budget: about 10 minutes on a
2-core CPU). `--set` overrides any training option (see `python train.py
--help`), e.g. `--set pretrain_epochs=2 --set gan_mode=vanilla`. For a GPU
budget raise --steps and the model size, e.g.
`--steps 20000 --set preset=unet_256 --set image_size=256`.
"""

import argparse
import dataclasses
import os
import tempfile
import time

from common import SHARED, report

from keras_colorizer.config import TrainOptions


def parse_set(values):
    fields = {f.name: f for f in dataclasses.fields(TrainOptions)}
    overrides = {}
    for item in values:
        key, _, raw = item.partition("=")
        if key not in fields:
            raise SystemExit(f"error: --set {item}: unknown option {key!r}")
        default = getattr(TrainOptions(), key)
        if isinstance(default, bool) or key in ("cache", "jit_compile"):
            overrides[key] = raw.lower() in ("1", "true", "yes")
        elif isinstance(default, int) or key in ("levels", "decay_epochs", "steps_per_epoch"):
            overrides[key] = int(raw)
        elif isinstance(default, float):
            overrides[key] = float(raw)
        else:
            overrides[key] = raw
    return overrides


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(SHARED / "data" / "train" / "bsds500"))
    parser.add_argument("--eval", default=str(SHARED / "data" / "dev" / "kodak24"))
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "kc_quality"))
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE")
    args = parser.parse_args()

    from keras_colorizer.evaluate import evaluate
    from keras_colorizer.training import train

    values = dict(
        data=args.train, out=args.out, preset="unet_128", ngf=64, ndf=64, image_size=128, batch_size=4,
        epochs=args.epochs, steps_per_epoch=max(1, args.steps // args.epochs), val_split=0.05, samples=4,
    )
    values.update(parse_set(args.set))
    options = TrainOptions(**values).validate()
    start = time.perf_counter()
    result = train(options, verbose=2)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = evaluate(result.run_dir, args.eval, os.path.join(result.run_dir, "eval"), verbose=False)
    report({
        "options": {k: v for k, v in options.to_dict().items() if k not in ("out", "name")},
        "steps": result.steps,
        "train_seconds": round(train_s, 1),
        "eval_seconds": round(time.perf_counter() - start, 1),
        "run": result.run_dir,
        "eval": summary,
        "targets": {
            "ciede2000_below_gray": summary["model_scores"]["ciede2000"] < summary["gray_scores"]["ciede2000"],
            "cf_at_least_70pct_of_original": summary["model_scores"]["cf"] >= 0.7 * summary["model_scores"]["cf_original"],
            "psnr_within_0_5_db_of_gray": summary["model_scores"]["psnr"] >= summary["gray_scores"]["psnr"] - 0.5,
        },
    })


if __name__ == "__main__":
    main()
