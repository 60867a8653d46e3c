"""Train with a stated budget on one photo folder, evaluate on another, print the scores as JSON.

usage: python bench/quality.py [--train DIR] [--eval DIR ...] [--steps 800] [--set OPTION=VALUE ...]
       python bench/quality.py --resume RUN [--eval DIR ...]

Defaults: train on ../shared/data/train/bsds500 and evaluate on
../shared/data/dev/kodak24 and ../shared/data/dev/imagenet500 (Kodak24 alone
is too small to decide on); the default recipe of `python train.py`
(`efficientnet_lite0_unet`, lambda 300) with a 64-filter discriminator
(ngf 64 too, for the U-Nets), the generator's own crop size (224 for the
Lite0 default since 2026-12-02; the rows of docs/quality.md before it ran
at `--set image_size=128`), batch 4, 800 steps in 10 epochs (the CPU
budget: 15-35 minutes on a 2-core CPU). `--set` overrides any training
option (see `python train.py --help`), e.g. `--set generator=unet_128 --set
lambda_l1=100` (the earlier default). For a GPU budget raise --steps and
the model size, e.g. `--steps 20000 --set generator=unet_256`.

A long budget that stops (a killed process, the end of a working session)
goes on from its last epoch's checkpoint with `--resume RUN` (the run folder
it printed), which finishes the training and then evaluates.
"""

import argparse
import dataclasses
import os
import tempfile
import time
from typing import Optional

from common import SHARED, report

from keras_colorizer.run.options import TrainOptions


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
        elif isinstance(default, int) or fields[key].type == Optional[int]:
            overrides[key] = int(raw)
        elif isinstance(default, float):
            overrides[key] = float(raw)
        else:
            overrides[key] = raw
    return overrides


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(SHARED / "data" / "train" / "bsds500"))
    parser.add_argument("--eval", action="append", default=None, help="evaluation folder (repeat for several)")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "kc_quality"))
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE")
    parser.add_argument("--resume", metavar="RUN", help="finish the run in RUN (its saved options) and evaluate it")
    args = parser.parse_args()
    if args.resume and args.set:
        parser.error("--resume continues a run with its saved options; --set cannot change them")
    args.eval = args.eval or [str(SHARED / "data" / "dev" / name) for name in ("kodak24", "imagenet500")]

    from keras_colorizer.evaluate import evaluate
    from keras_colorizer.run.training import train

    values = dict(
        data=args.train, out=args.out, ngf=64, ndf=64, batch_size=4,
        epochs=args.epochs, steps_per_epoch=max(1, args.steps // args.epochs), val_split=0.05, samples=4,
    )
    values.update(parse_set(args.set))
    start = time.perf_counter()
    if args.resume:
        result = train(resume=args.resume, verbose=2)  # train_seconds: this process's share only
        options = TrainOptions.load(os.path.join(result.run_dir, "options.json"))
    else:
        options = TrainOptions(**values).validate()
        result = train(options, verbose=2)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    summaries = {}
    for folder in args.eval:
        name = os.path.basename(os.path.normpath(folder))
        summaries[name] = evaluate(result.run_dir, folder, os.path.join(result.run_dir, f"eval-{name}"), verbose=False)
    report({
        "options": {k: v for k, v in options.to_dict().items() if k not in ("out", "name")},
        "steps": result.steps,
        "train_seconds": round(train_s, 1),
        "eval_seconds": round(time.perf_counter() - start, 1),
        "run": result.run_dir,
        "eval": {name: brief(summary) for name, summary in summaries.items()},
    })


def brief(summary):
    """The scores that decide, and the targets of the quality issues."""
    model, gray = summary["model_scores"], summary["gray_scores"]
    cf_share = model["cf"] / model["cf_original"]
    return {
        "photos": summary["photos"],
        "psnr": round(model["psnr"], 2), "gray_psnr": round(gray["psnr"], 2),
        "ciede2000": round(model["ciede2000"], 2), "gray_ciede2000": round(gray["ciede2000"], 2),
        "cf_share_of_original": round(cf_share, 3),
        "ciede2000_below_gray": model["ciede2000"] < gray["ciede2000"],
    }


if __name__ == "__main__":
    main()
