"""`colorize PHOTO_OR_FOLDER... --model RUN --out DIR`: colorize photos with a trained model."""

import os
import sys

from keras_colorizer.cli.common import ArgumentParser, fail, quiet_tensorflow

EXIT_SOME_FAILED = 1


def build_parser():
    parser = ArgumentParser(
        prog="colorize",
        description=(
            "Colorize photos with a trained generator. Each photo keeps its own size and "
            "full-resolution lightness; only colour is predicted. Results are PNG files in --out."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="PHOTO_OR_FOLDER", help="photos, or folders searched recursively")
    parser.add_argument("--model", required=True, metavar="RUN_OR_CHECKPOINT", help="a run folder (its latest checkpoint) or a checkpoint folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the colorized PNGs (created if missing)")
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
            files = find_image_files(item)
            if not files:
                raise UserError(f"{item}: no photos found in this folder")
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
    """Write under a temporary name and rename: `target` is never half a PNG."""
    from PIL import Image

    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    tmp = f"{target}.tmp-{os.getpid()}.png"
    try:
        Image.fromarray(image).save(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None):
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    import keras

    from keras_colorizer.errors import UserError
    from keras_colorizer.inference import Colorizer

    try:
        jobs, skipped = collect_inputs(args.inputs)
        colorizer = Colorizer.load(args.model)
        check_writable(args.out)
    except UserError as error:
        return fail(error)

    failed = []
    progress = keras.utils.Progbar(len(jobs), unit_name="photo")
    for path, name in jobs:
        target = os.path.join(args.out, os.path.splitext(name)[0] + ".png")
        try:
            if os.path.abspath(target) == os.path.abspath(path):
                raise UserError(f"writing {target} would overwrite the input photo; choose another --out")
            result = colorizer.colorize_file(path)
        except Exception as error:  # noqa: BLE001 - one bad photo must not stop the rest
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            failed.append((path, reason))
            progress.add(1)
            continue
        try:
            write_png(result, target)
        except OSError as error:  # the output, not this photo: every other photo would fail the same way
            return fail(UserError(f"{target}: cannot write ({error.strerror or error}); stopped"))
        progress.add(1)
    for path, reason in skipped + failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    problems = len(skipped) + len(failed)
    print(
        f"Colorized {len(jobs) - len(failed)} of {len(jobs) + len(skipped)} photo(s) into {args.out}"
        + (f"; {problems} failed" if problems else "")
    )
    return EXIT_SOME_FAILED if problems else 0


if __name__ == "__main__":
    sys.exit(main())
