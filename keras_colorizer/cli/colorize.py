"""`colorize PHOTO_VIDEO_OR_FOLDER... [--model RUN] --out DIR`: colorize photos and videos (default: the shipped preset).

`colorize film.mp4 --model RUN --out film_colour.mp4` writes one video;
with several inputs or folders, --out is a folder: photos become PNGs and
videos `.mp4` files (`.webm` with --codec vp9) under their own names.
"""

import argparse
import os
import sys

from keras_colorizer.cli.common import ArgumentParser, fail, positive_int, quiet_tensorflow

EXIT_SOME_FAILED = 1
EXIT_INTERRUPTED = 130


def describe(colorizer):
    """The settings a colorizer draws with, in a few words: 'network at 160x160, saturation 1.3'."""
    side = colorizer.image_size
    words = [f"network at {side}x{side}"]
    if colorizer.detail_size:
        words.append(f"detail size {colorizer.detail_size}")
    if colorizer.saturation != 1.0:
        words.append(f"saturation {colorizer.saturation:g}")
    return ", ".join(words)


def build_parser():
    parser = ArgumentParser(
        prog="colorize",
        description=(
            "Colorize photos and videos with a trained generator (the ready-made one by default). Each photo or frame keeps its own size and "
            "full-resolution lightness; only colour is predicted. Photos become PNG files in --out; a video "
            "becomes a video with the same frame size, rate and timestamps, its audio and subtitles copied."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="PHOTO_VIDEO_OR_FOLDER", help="photos, videos, or folders searched recursively")
    parser.add_argument("--model", default=None, metavar="RUN_OR_MODEL",
                        help="a preset's name, a run or checkpoint folder, an exported SavedModel folder, or a .tflite "
                        "file (default: the ready-made preset shipped with the package)")
    parser.add_argument("--saturation", type=float, default=None,
                        help="scale of the predicted colour: 0 gray, 1 the network's own, above 1 stronger with skin "
                        "spared (default: the model's setting, 1.75 for the ready-made model, 1 for a run)")
    parser.add_argument("--detail-size", type=int, default=None, metavar="PIXELS",
                        help="shrink each photo's lightness to this side before enlarging it to the network's, as soft "
                        "as the photos it learnt from (default: the model's own setting, where it names one; the "
                        "network's size for none; docs/lab/2026-12-06-tiny-imagenet.md)")
    parser.add_argument("--network-size", type=int, default=None, metavar="PIXELS",
                        help="the side the network runs at, a multiple of 32 for the ready-made model (default: the "
                        "preset's own side, 160 for the ready-made model, which learnt at 128; a run's training size): "
                        "a larger side gives it a sharper photo (docs/lab/2026-12-06-tiny-imagenet.md)")
    parser.add_argument("--out", required=True, metavar="DIR_OR_VIDEO", help="folder for the results (created if missing), or a video file name for one input video")
    video = parser.add_argument_group("videos")
    video.add_argument("--temporal", action=argparse.BooleanOptionalAction, default=True,
                       help="carry colour along the motion between frames, so it does not flicker (default: on)")
    video.add_argument("--codec", default="h264", help="h264 (default), hevc or vp9")
    video.add_argument("--crf", type=int, default=None, help="the encoder's quality: lower is better and bigger (default: 18 for h264, 22 hevc, 32 vp9)")
    video.add_argument("--batch-size", type=positive_int, default=8, help="frames per network call (default: 8)")
    video.add_argument("--segment-frames", type=positive_int, default=240,
                       help="frames per segment, the most an interrupted video redoes with --resume (default: 240)")
    video.add_argument("--resume", action="store_true", help="continue an interrupted video from its last finished segment")
    return parser


def collect_inputs(inputs):
    """([(path, name under --out)], [(path, why skipped)]), or UserError for a missing path or an empty folder.

    Only regular files are read: a FIFO, socket or device named like a photo
    would block the reader forever, so it is skipped with its reason.
    """
    import stat

    from keras_colorizer.data.folder import find_image_files
    from keras_colorizer.errors import UserError

    jobs, skipped = [], []
    for item in inputs:
        if os.path.isdir(item):
            files = find_image_files(item, extensions=_media_extensions())
            if not files:
                raise UserError(f"{item}: no photos or videos found in this folder")
            jobs.extend((f, os.path.relpath(f, item)) for f in files)
        elif os.path.isfile(item):
            jobs.append((item, os.path.basename(item)))
        elif os.path.exists(item):
            mode = os.stat(item).st_mode
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device or special file"
            skipped.append((item, f"not a regular file ({kind}); skipped"))
        else:
            raise UserError(f"{item}: no such photo or folder")
    return jobs, skipped


def _media_extensions():
    from keras_colorizer.data.images import IMAGE_EXTENSIONS
    from keras_colorizer.video import VIDEO_EXTENSIONS

    return IMAGE_EXTENSIONS + VIDEO_EXTENSIONS


def is_photo_path(path):
    from keras_colorizer.data.images import IMAGE_EXTENSIONS

    return path.lower().endswith(IMAGE_EXTENSIONS)


def check_writable(folder):
    """Create `folder` and write a test file in it, or raise UserError: one line, before any work."""
    from keras_colorizer.errors import UserError

    probe = os.path.join(folder, f".write-test-{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        raise UserError(f"{folder}: cannot write there ({error.strerror or error}); choose another --out") from None


def write_png(image, target):
    """Write a PNG atomically: `target` is never half a PNG."""
    from PIL import Image

    from keras_colorizer.atomic import replacing

    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    with replacing(target, ".png") as tmp:
        Image.fromarray(image).save(tmp)


def _video_target(out, name, codec):
    return os.path.join(out, os.path.splitext(name)[0] + (".webm" if codec == "vp9" else ".mp4"))


def _colorize_video(colorizer, path, target, args, settings):
    from keras_colorizer.video import colorize_video

    report = colorize_video(colorizer, path, target, settings, resume=args.resume, model_id=os.path.abspath(args.model))
    notes = [f"{report.frames} frames"]
    if report.resumed_at:
        notes.append(f"resumed at frame {report.resumed_at}")
    if report.skipped:
        notes.append(f"{report.skipped} corrupt frame(s) skipped")
    if report.cuts:
        notes.append(f"{report.cuts} scene cut(s)")
    print(f"{path} -> {target} ({', '.join(notes)}, {report.seconds:.1f} s)")


def main(argv=None):
    import signal

    quiet_tensorflow()
    # Ctrl-C stops a video cleanly even where the shell started us with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = build_parser().parse_args(argv)
    import keras

    from keras_colorizer.errors import UserError, first_line
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.video import VideoSettings, is_video_path

    try:
        settings = VideoSettings(codec=args.codec, crf=args.crf, temporal=args.temporal, batch_size=args.batch_size,
                                 segment_frames=args.segment_frames)
        jobs, skipped = collect_inputs(args.inputs)
        # One input and a video name for --out: the input is read as a video whatever its extension (.m4a, .3gp ...).
        one_video_file = len(jobs) == 1 and not skipped and is_video_path(args.out) and not is_photo_path(jobs[0][0])
        if is_video_path(args.out) and not one_video_file:
            raise UserError(
                f"--out {args.out} names a video file: it takes exactly one input video "
                f"(got {len(jobs) + len(skipped)} input(s): {jobs[0][0] if jobs else args.inputs[0]}...); give a folder instead"
            )
        from keras_colorizer.presets import DEFAULT_PRESET, resolve_model

        named = args.model or DEFAULT_PRESET
        args.model = resolve_model(named)
        colorizer = Colorizer.load(args.model, saturation=args.saturation, detail_size=args.detail_size,
                                   network_size=args.network_size)
        print(f"Model: {named} ({describe(colorizer)})")
        if not one_video_file:
            check_writable(args.out)
    except UserError as error:
        return fail(error)

    if one_video_file:  # colorize film.mp4 --out film_colour.mp4: its errors are the command's (exit 2)
        try:
            _colorize_video(colorizer, jobs[0][0], args.out, args, settings)
        except UserError as error:
            return fail(error)
        except KeyboardInterrupt:
            return _interrupted(args.out)
        return 0

    photos = [(path, name) for path, name in jobs if not is_video_path(path)]
    videos = [(path, name) for path, name in jobs if is_video_path(path)]
    failed = []
    if photos:
        progress = keras.utils.Progbar(len(photos), unit_name="photo")
        for path, name in photos:
            target = os.path.join(args.out, os.path.splitext(name)[0] + ".png")
            try:
                if os.path.abspath(target) == os.path.abspath(path):
                    raise UserError(f"writing {target} would overwrite the input photo; choose another --out")
                result = colorizer.colorize_file(path)
            except Exception as error:  # noqa: BLE001 - one bad photo must not stop the rest
                failed.append((path, first_line(error)))
                progress.add(1)
                continue
            try:
                write_png(result, target)
            except OSError as error:  # the output, not this photo: every other photo would fail the same way
                return fail(UserError(f"{target}: cannot write ({error.strerror or error}); stopped"))
            progress.add(1)
    for path, name in videos:
        target = _video_target(args.out, name, args.codec)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _colorize_video(colorizer, path, target, args, settings)
        except KeyboardInterrupt:
            return _interrupted(target)
        except Exception as error:  # noqa: BLE001 - one bad video must not stop the rest
            failed.append((path, first_line(error)))
    for path, reason in skipped + failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    problems = len(skipped) + len(failed)
    kinds = "photo(s)" if not videos else "video(s)" if not photos else "photo(s) and video(s)"
    print(
        f"Colorized {len(jobs) - len(failed)} of {len(jobs) + len(skipped)} {kinds} into {args.out}"
        + (f"; {problems} failed" if problems else "")
    )
    return EXIT_SOME_FAILED if problems else 0


def _interrupted(target):
    print(
        f"\nInterrupted: {target} was not written; its finished segments are kept in {target}.parts. "
        "Run the same command with --resume to continue.",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
