"""`python -m keras_colorizer.evaluate --model M --data DIR --out DIR`: score a colorizer against colour photos."""

import os
import sys

from keras_colorizer.cli.common import ArgumentParser, fail, positive_int, quiet_tensorflow




def build_parser():
    parser = ArgumentParser(
        prog="python -m keras_colorizer.evaluate",
        description="Score a colorizer against colour photos (PSNR, SSIM, CIEDE2000, colourfulness), "
        "with a gray baseline; writes scores.csv, summary.json, grid.png and scores.png.",
    )
    parser.add_argument("--model", required=True, help="a run or checkpoint folder, an exported SavedModel folder, or a .tflite file")
    parser.add_argument("--data", required=True, help="a folder of colour photos (searched recursively)")
    parser.add_argument("--out", required=True, help="folder for the scores and figures")
    parser.add_argument("--grid-photos", type=positive_int, default=6, help="photos shown in grid.png (default: 6)")
    return parser


def main(argv=None):
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    from keras_colorizer.errors import UserError
    from keras_colorizer.evaluate import evaluate, summary_table

    try:
        summary = evaluate(args.model, args.data, args.out, grid_photos=args.grid_photos)
    except UserError as error:
        return fail(error)
    print(summary_table(summary))
    print(f"Wrote {os.path.join(args.out, 'scores.csv')}, summary.json, grid.png and scores.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
