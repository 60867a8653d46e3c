"""`python train.py`: train the pix2pix colorizer; `--help` lists every option."""

import argparse
import dataclasses
import sys
from typing import Optional

from keras_colorizer.cli.common import ArgumentParser, fail, quiet_tensorflow
from keras_colorizer.run.options import ARCHITECTURE_OPTIONS, DEFAULT_FULL_RUN_HINT, FULL_RUN_HINT, TrainOptions
from keras_colorizer.presets import DEFAULT_PRESET

EXIT_DIVERGED = 1
EXIT_INTERRUPTED = 130


# --help in the order of the flow; every option of TrainOptions in exactly one group (tests/test_cli.py).
OPTION_GROUPS = (
    ("data", ("data", "data_weights", "val_split", "val_max", "val_data", "jitter", "cache", "seed")),
    ("the run", ("out", "name", "init_from", "epochs", "steps_per_epoch", "batch_size", "samples")),
    ("the model", ("generator", "image_size", "levels", "ngf", "ndf", "n_layers", "norm", "upsample", "dropout",
                   "encoder_weights", "decoder_filters")),
    ("loss and optimizer", ("gan_mode", "lambda_l1", "lr", "beta1", "decay_epochs", "encoder_lr_scale")),
    ("speed and hardware", ("precision", "jit_compile", "steps_per_execution", "strategy")),
    ("research: measured, not better by default (docs/quality.md)",
     ("ab_head", "lambda_class", "rebalance", "lambda_temporal", "pretrain_epochs", "d_noise", "d_batch", "global_context")),
)


def build_parser():
    parser = ArgumentParser(
        prog="train.py",
        description=(
            "Train a pix2pix colorizer (U-Net generator + 70x70 PatchGAN) that predicts the a, b "
            "channels of CIELAB from L. With no options it trains a small model on the built-in "
            "photos in a few minutes on a CPU. Each run writes runs/<name>/: options.json, "
            "checkpoints/, samples/ (a grid per epoch), logs/ (TensorBoard) and history.csv."
        ),
        epilog=f"A full run as in the paper: {FULL_RUN_HINT}",
    )
    defaults = TrainOptions()
    groups = {title: parser.add_argument_group(title) for title, _ in OPTION_GROUPS}
    group_of = {name: groups[title] for title, names in OPTION_GROUPS for name in names}
    for field in dataclasses.fields(TrainOptions):
        flag = "--" + field.name.replace("_", "-")
        group = group_of[field.name]
        help_text = field.metadata.get("help", "")
        if "default" not in help_text and getattr(defaults, field.name) is not None:
            help_text += f" (default: {getattr(defaults, field.name)})"
        if field.name == "data":
            group.add_argument(flag, dest="data", nargs="+", default=None, metavar="DIR", help=help_text)
            continue
        if field.type in (bool, Optional[bool]):
            group.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
            continue
        kind = {int: int, float: float}.get(type(getattr(defaults, field.name)), str)
        if field.type in (int, Optional[int]):
            kind = int
        group.add_argument(flag, dest=field.name, type=kind, default=None, metavar=field.name.upper(), help=help_text)
    run = groups["the run"]
    run.add_argument("--resume", metavar="RUN", default=None,
                     help="continue a run (or checkpoint) where it stopped, with its saved options (more --epochs; "
                          "new --lambda-l1, --rebalance)")
    run.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")
    parser.add_argument("--preset", default=None, help=argparse.SUPPRESS)  # the old name of --generator
    return parser


def options_from_args(args):
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainOptions) if getattr(args, f.name) is not None}
    if given.get("data") is not None and len(given["data"]) == 1:
        given["data"] = given["data"][0]  # one source: a path, as runs have always stored it
    if args.preset is not None:
        print("warning: --preset is deprecated and will be removed; use --generator", file=sys.stderr)
        given.setdefault("generator", args.preset)
    if not args.resume and starts_from_preset(given):
        given["init_from"] = DEFAULT_PRESET
    return given, TrainOptions(**given)


def starts_from_preset(given):
    """Plain `python train.py` (built-in photos, no architecture chosen) fine-tunes the ready-made generator.

    Measured (docs/lab/2026-12-06-tiny-imagenet.md): 800 steps on BSDS500
    from the preset scored lower CIEDE2000 on both dev sets than 800 steps
    from the ImageNet encoder alone, at each of two seeds. Any --data,
    --init-from or architecture option (--generator, --image-size, ...)
    trains as asked instead.
    """
    return not ({"data", "init_from", *ARCHITECTURE_OPTIONS} & set(given))


def describe_run(result):
    import os

    run = result.run_dir
    parts = [f"options {os.path.join(run, 'options.json')}"]
    if result.checkpoint:
        parts.append(f"checkpoint {result.checkpoint}")
    parts.append(f"sample grids {os.path.join(run, 'samples')}/")
    parts.append(f"history {os.path.join(run, 'history.csv')}")
    parts.append(f"TensorBoard: tensorboard --logdir {os.path.join(run, 'logs')}")
    return f"Run {run} ({result.steps} steps): " + "; ".join(parts)


def main(argv=None):
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    given, options = options_from_args(args)

    from keras_colorizer.errors import UserError
    from keras_colorizer.run.training import train

    try:
        if args.resume:
            result = train(resume=args.resume, changes=given, verbose=2 if args.quiet else "auto")
        else:
            result = train(options, verbose=2 if args.quiet else "auto")  # train() checks the options
    except UserError as error:
        return fail(error)
    except KeyboardInterrupt:
        print("\nAborted. The last complete checkpoint (if any) is kept; continue with --resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.diverged:
        kept = f"the last good checkpoint is {result.checkpoint}" if result.checkpoint else "no checkpoint was saved"
        print(f"error: training diverged ({result.diverged}); stopped, {kept}.", file=sys.stderr)
        return EXIT_DIVERGED
    if result.interrupted:
        print(f"Interrupted. Continue with: python train.py --resume {result.run_dir}")
        print(describe_run(result))
        return EXIT_INTERRUPTED
    if not args.resume and not given.get("data"):
        print(f"This run trained on the built-in photos. For a full one: {DEFAULT_FULL_RUN_HINT} "
              f"(the paper's setup: {FULL_RUN_HINT})")
    print(describe_run(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
