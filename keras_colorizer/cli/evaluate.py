"""`keras-colorizer evaluate --model M --data DIR_OR_VIDEO --out DIR`: score a colorizer against colour photos or a colour video."""

import os
import sys

from keras_colorizer.cli.common import ArgumentParser, fail, positive_int, quiet_tensorflow


def build_parser():
    parser = ArgumentParser(
        prog="keras-colorizer evaluate",
        description="Score a colorizer against colour photos (PSNR, SSIM, CIEDE2000, colourfulness), "
        "with a gray baseline; writes scores.csv, summary.json, grid.png and scores.png.",
    )
    parser.add_argument("--model", required=True, help="a run or checkpoint folder, an exported SavedModel folder, or a .tflite file")
    parser.add_argument("--data", required=True, help="a folder of colour photos (searched recursively), or a colour video: "
                        "its frames are colorized with and without temporal smoothing and scored, with the flicker of each")
    parser.add_argument("--input", metavar="VIDEO", help="with a video --data: the copy to colorize instead of its L, "
                        "frame for frame the same (an archive-like copy with grain, say); the true a, b on its L are "
                        "scored too (truth_on_input), the floor of an output that keeps its L")
    parser.add_argument("--out", required=True, help="folder for the scores and figures")
    parser.add_argument("--detail-size", type=int, default=None, metavar="PIXELS",
                        help="as colorize --detail-size (default: the model's own setting)")
    parser.add_argument("--network-size", type=int, default=None, metavar="PIXELS",
                        help="as colorize --network-size (default: the preset's own side, else the training size)")
    parser.add_argument("--saturation", type=float, default=None,
                        help="as colorize --saturation (default: the model's own setting)")
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
    if args.input is not None:
        return fail(f"--input {args.input}: a copy to colorize needs a video as --data; {args.data} is not one")
    try:
        summary = evaluate(args.model, args.data, args.out, grid_photos=args.grid_photos, detail_size=args.detail_size,
                           network_size=args.network_size, saturation=args.saturation)
    except UserError as error:
        return fail(error)
    print(summary_table(summary))
    print(f"Wrote {os.path.join(args.out, 'scores.csv')}, summary.json, grid.png and scores.png")
    return 0


def _evaluate_video(args):
    from keras_colorizer.cli.colorize import check_writable
    from keras_colorizer.errors import UserError
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.video.evaluate import check_same_frames, evaluate_video

    try:
        if args.input is not None:
            check_same_frames(args.data, args.input)
        check_writable(args.out)
        colorizer = Colorizer.load(args.model, detail_size=args.detail_size, network_size=args.network_size,
                                   saturation=args.saturation)
        summary = evaluate_video(colorizer, args.data, args.out, gray_path=args.input)
    except UserError as error:
        return fail(error)
    print(f"{'':14} {'flicker':>8} {'CIEDE2000':>10} {'PSNR':>7}")
    for name in ("per_frame", "temporal", "truth_on_input", "truth"):
        if name not in summary:
            continue
        row = summary[name]
        scores = f"{row['ciede2000']:>10.2f} {row['psnr']:>7.2f}" if "psnr" in row else f"{'':>10} {'':>7}"
        print(f"{name:14} {row['flicker']:>8.3f} {scores}")
    videos = "per_frame.mp4, temporal.mp4 and truth_on_input.mp4" if args.input else "per_frame.mp4 and temporal.mp4"
    print(f"Wrote {os.path.join(args.out, 'scores.csv')}, summary.json, strip.png, {videos}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
