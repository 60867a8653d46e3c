"""`colorize PHOTO_OR_FOLDER... --model RUN --out DIR`: colorize photos with a trained model."""

import argparse
import os
import sys

from keras_colorizer.cli.common import fail, quiet_tensorflow

EXIT_SOME_FAILED = 1


def build_parser():
    parser = argparse.ArgumentParser(
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
    """[(path, name under --out)], or raise UserError for a missing path or an empty folder."""
    from keras_colorizer.data.folder import find_image_files
    from keras_colorizer.errors import UserError

    jobs = []
    for item in inputs:
        if os.path.isdir(item):
            files = find_image_files(item)
            if not files:
                raise UserError(f"{item}: no photos found in this folder")
            jobs.extend((f, os.path.relpath(f, item)) for f in files)
        elif os.path.isfile(item):
            jobs.append((item, os.path.basename(item)))
        else:
            raise UserError(f"{item}: no such photo or folder")
    return jobs


def main(argv=None):
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    from PIL import Image

    import keras

    from keras_colorizer.errors import UserError
    from keras_colorizer.inference import Colorizer

    try:
        jobs = collect_inputs(args.inputs)
        colorizer = Colorizer.load(args.model)
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
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            tmp = f"{target}.tmp-{os.getpid()}.png"
            Image.fromarray(result).save(tmp)
            os.replace(tmp, target)
        except Exception as error:  # noqa: BLE001 - one bad photo must not stop the rest
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            failed.append((path, reason))
        progress.add(1)
    for path, reason in failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    done = len(jobs) - len(failed)
    print(f"Colorized {done} of {len(jobs)} photo(s) into {args.out}" + (f"; {len(failed)} failed" if failed else ""))
    return EXIT_SOME_FAILED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
