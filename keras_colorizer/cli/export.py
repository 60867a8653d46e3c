"""`keras-colorizer export RUN_CHECKPOINT_OR_PRESET --out DIR`: SavedModel for TF Serving and TFLite files for phones.

The command line of `keras_colorizer.export.export_model`.
"""

import argparse
import sys

from keras_colorizer.cli.common import ArgumentParser, fail, positive_int, quiet_tensorflow


def model_name(value):
    """TF Serving finds a model at <base>/<name>/<version>/: the name is one short path segment."""
    from keras_colorizer.run.options import check_name

    try:
        return check_name(value, "--model-name")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser():
    from keras_colorizer.export.folder import FORMATS
    from keras_colorizer.export.tflite import DEFAULT_VARIANTS, VARIANTS

    parser = ArgumentParser(
        prog="keras-colorizer export",
        description="Export a trained generator: a SavedModel laid out for TensorFlow Serving and "
        "TFLite (LiteRT) files for phones, with a report of sizes, latency and agreement.",
    )
    parser.add_argument("model", metavar="RUN_CHECKPOINT_OR_PRESET",
                        help="a run folder (its latest checkpoint), a checkpoint folder, or a preset's name (keras_colorizer.list_presets())")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (refused if it exists, unless --overwrite)")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, from {', '.join(FORMATS)} (default: all)")
    parser.add_argument(
        "--variants", default=",".join(DEFAULT_VARIANTS),
        help=f"TFLite variants, from {', '.join(VARIANTS)} (default: {','.join(DEFAULT_VARIANTS)}; int16x8 is for "
        "accelerators that run 16x8: on a CPU it runs 25-60x slower than float32)",
    )
    parser.add_argument("--size", type=positive_int, default=256, help="side of the photos the TFLite files' colorize takes (default: 256); the network inside runs at the side colorize runs it at on the desktop (a preset's own, else its training size) unless --network-size says otherwise")
    parser.add_argument("--network-size", type=positive_int, default=None,
                        help="side the network runs at inside every exported file (default: a preset's own, else its training size); a "
                        "smaller one is faster (a quarter of the work at half the side), e.g. 128 for a model "
                        "trained at 224 (docs/quality.md)")
    parser.add_argument("--detail-size", type=int, default=None, metavar="PIXELS",
                        help="the photo's lightness shrunk to this side before the network's size, as colorize "
                        "--detail-size (default: the model's own setting, where it names one)")
    parser.add_argument("--saturation", type=float, default=None,
                        help="the photo signatures' colour scale, as colorize --saturation (default: the model's own "
                        "setting, 1 for a run); the JSON beside each .tflite file names it for apps that draw from predict_ab")
    parser.add_argument("--model-name", type=model_name, default="colorizer", help="TF Serving model name (default: colorizer)")
    parser.add_argument("--version", type=positive_int, default=1, help="TF Serving model version, a positive integer (default: 1)")
    parser.add_argument("--calibration", metavar="DIR", default=None, help="colour photos for int8 calibration (default: the built-in photos)")
    parser.add_argument("--calibration-crops", type=positive_int, default=100, help="crops drawn from them (default: 100)")
    parser.add_argument("--eval-crops", type=positive_int, default=8, help="crops of other photos that score the TFLite files (default: 8)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder (crash-safe: the old one stays until the new one is complete)")
    return parser


def parse_list(value, allowed, what):
    from keras_colorizer.errors import UserError

    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in items if v not in allowed]
    if unknown or not items:
        raise UserError(f"--{what} {value!r}: expected a comma-separated list from {', '.join(allowed)}")
    return items


def main(argv=None):
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    from keras_colorizer.errors import UserError

    try:
        export(args)
    except UserError as error:
        return fail(error)
    return 0


def export(args):
    """Check the lists the arguments name, then export."""
    from keras_colorizer.export.folder import FORMATS, export_model
    from keras_colorizer.export.tflite import VARIANTS

    formats = parse_list(args.formats, FORMATS, "formats")
    variants = parse_list(args.variants, VARIANTS, "variants") if "tflite" in formats else []
    return export_model(
        args.model, args.out, formats=formats, variants=variants, size=args.size, network_size=args.network_size,
        detail_size=args.detail_size, saturation=args.saturation, model_name=args.model_name, version=args.version, calibration=args.calibration,
        calibration_crops=args.calibration_crops, eval_crops=args.eval_crops, overwrite=args.overwrite,
        log=lambda line: print(line, flush=True),
    )


if __name__ == "__main__":
    sys.exit(main())
