"""`python -m keras_colorizer.evaluate --model M --data DIR_OR_VIDEO --out DIR`: score a colorizer against colour photos or a colour video."""

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
    parser.add_argument("--data", required=True, help="a folder of colour photos (searched recursively), or a colour video: "
                        "its frames are colorized with and without temporal smoothing and scored, with the flicker of each")
    parser.add_argument("--out", required=True, help="folder for the scores and figures")
    parser.add_argument("--grid-photos", type=positive_int, default=6, help="photos shown in grid.png (default: 6)")
    return parser


def main(argv=None):
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    from keras_colorizer.errors import UserError
    from keras_colorizer.evaluate import evaluate, summary_table

    from keras_colorizer.video import is_video_path

    if is_video_path(args.data) and os.path.isfile(args.data):
        return _evaluate_video(args)
    try:
        summary = evaluate(args.model, args.data, args.out, grid_photos=args.grid_photos)
    except UserError as error:
        return fail(error)
    print(summary_table(summary))
    print(f"Wrote {os.path.join(args.out, 'scores.csv')}, summary.json, grid.png and scores.png")
    return 0


def _evaluate_video(args):
    from keras_colorizer.cli.colorize import check_writable
    from keras_colorizer.errors import UserError
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.video.evaluate import evaluate_video

    try:
        check_writable(args.out)
        summary = evaluate_video(Colorizer.load(args.model), args.data, args.out)
    except UserError as error:
        return fail(error)
    print(f"{'':10} {'flicker':>8} {'CIEDE2000':>10} {'PSNR':>7}")
    for name in ("per_frame", "temporal", "truth"):
        row = summary[name]
        scores = f"{row['ciede2000']:>10.2f} {row['psnr']:>7.2f}" if "psnr" in row else f"{'':>10} {'':>7}"
        print(f"{name:10} {row['flicker']:>8.3f} {scores}")
    print(f"Wrote {os.path.join(args.out, 'scores.csv')}, summary.json, strip.png, per_frame.mp4 and temporal.mp4")
    return 0


if __name__ == "__main__":
    sys.exit(main())
