"""`python -m keras_colorizer.export RUN_OR_CHECKPOINT --out DIR`: SavedModel for TF Serving and TFLite files for phones."""

import argparse
import os
import shutil
import sys

import numpy as np

from keras_colorizer.cli.common import ArgumentParser, fail, positive_int, quiet_tensorflow

FORMATS = ("saved_model", "tflite")
def model_name(value):
    """TF Serving finds a model at <base>/<name>/<version>/: the name is one short path segment."""
    from keras_colorizer.run.options import check_name

    try:
        return check_name(value, "--model-name")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser():
    from keras_colorizer.export.tflite import DEFAULT_VARIANTS, VARIANTS

    parser = ArgumentParser(
        prog="python -m keras_colorizer.export",
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
    parser.add_argument("--size", type=positive_int, default=256, help="side of the photos the TFLite files' colorize takes (default: 256); the network inside runs at its training size, as on the desktop, unless --network-size says otherwise")
    parser.add_argument("--network-size", type=positive_int, default=None,
                        help="side the network runs at inside every exported file (default: its training size); a "
                        "smaller one is faster (a quarter of the work at half the side), e.g. 128 for a model "
                        "trained at 224 (docs/quality.md)")
    parser.add_argument("--model-name", type=model_name, default="colorizer", help="TF Serving model name (default: colorizer)")
    parser.add_argument("--version", type=positive_int, default=1, help="TF Serving model version, a positive integer (default: 1)")
    parser.add_argument("--calibration", metavar="DIR", default=None, help="colour photos for int8 calibration (default: the built-in photos)")
    parser.add_argument("--calibration-crops", type=positive_int, default=100, help="crops drawn from them (default: 100)")
    parser.add_argument("--eval-crops", type=positive_int, default=8, help="crops of other photos that score the TFLite files (default: 8)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder (crash-safe: the old one stays until the new one is complete)")
    return parser


def photo_crops(data, size, count, held_out, seed=0):
    """`count` random RGB uint8 crops (size x size) from the photos of `data`.

    Photos are split by seed: calibration crops come from one part
    (`held_out=False`), the crops that score the files from the other.
    """
    from keras_colorizer import color
    from keras_colorizer.data import open_source, split_indices
    from keras_colorizer.data.pipeline import JITTER_SCALE

    source = open_source(data)
    calibration, evaluation = split_indices(len(source), 0.3 if len(source) > 1 else 0.0, seed)
    indices = (evaluation if held_out else calibration) if len(evaluation) else calibration
    rng = np.random.default_rng(seed + int(held_out))
    crops = []
    for k in range(count):
        image = source.load(indices[k % len(indices)], int(round(size * JITTER_SCALE)))
        top = rng.integers(0, image.shape[0] - size + 1)
        left = rng.integers(0, image.shape[1] - size + 1)
        crop = image[top : top + size, left : left + size]
        if source.encoding == "lab8":
            l_norm, ab_norm = color.lab8_to_network(crop[..., :1], crop[..., 1:])
            crop = np.round(np.asarray(color.network_to_rgb(l_norm, ab_norm)) * 255.0).astype(np.uint8)
        crops.append(crop)
    return np.stack(crops)


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
        return export(args)
    except UserError as error:
        return fail(error)


def export(args):
    """Check the arguments, build the export in a staging folder, report, and swap it into --out."""
    from keras_colorizer import swap
    from keras_colorizer.export.tflite import VARIANTS

    formats = parse_list(args.formats, FORMATS, "formats")
    variants = parse_list(args.variants, VARIANTS, "variants") if "tflite" in formats else []
    out = os.path.abspath(args.out)
    with swap.locked(out):  # a second export to the same --out is refused, not let loose on this one's folders
        return _export_locked(args, out, formats, variants)


def _export_locked(args, out, formats, variants):
    """The export, while this process holds `out`'s lock."""
    from keras_colorizer import swap
    from keras_colorizer.export.generator import load_float32_generator
    from keras_colorizer.export.report import write_report
    from keras_colorizer.errors import UserError

    for line in swap.recover(out):
        print(line, flush=True)
    if os.path.exists(out) and not args.overwrite:
        raise UserError(f"{out}: exists; choose another --out or pass --overwrite")
    from keras_colorizer.presets import resolve_model

    generator, checkpoint, step = load_float32_generator(resolve_model(args.model))
    if args.network_size is not None:
        set_network_size(generator, args.network_size)
    if generator.image_size is None:  # then the network runs at --size, which must suit it
        try:
            generator.check_size(args.size)
        except ValueError as error:
            raise UserError(f"--size: {error}") from None
    try:
        tmp = swap.staging_folder(out)
    except OSError as error:
        raise UserError(f"{out}: cannot write the export there ({error.strerror or error})") from None
    try:
        rows = []
        if "saved_model" in formats:
            rows.append(write_serving_model(generator, tmp, args.model_name, args.version))
        if variants:
            rows += write_tflite_files(generator, tmp, variants, args, checkpoint, step)
        table = write_report(tmp, rows)
        swap.swap_in(tmp, out)
    except BaseException as error:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_disk_full(error):
            kept = f"the export already in {out} is kept as it was" if os.path.exists(out) else "nothing was written"
            raise UserError(f"{os.path.dirname(out)}: the disk is full (No space left on device); {kept}") from None
        raise
    print(table)
    print(f"Wrote {out}")
    return 0


def is_disk_full(error):
    """A full file system, as Python (ENOSPC, EDQUOT) or TensorFlow's file writers (ResourceExhaustedError) say it."""
    import errno

    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return type(error).__name__ == "ResourceExhaustedError" and "space left on device" in str(error).lower()


def set_network_size(generator, size):
    """Run the loaded `generator` at `size` in the files written (its `image_size`), or UserError: one line."""
    from keras_colorizer.errors import UserError

    fixed = tuple(generator.inputs[0].shape[1:3])
    if any(side is not None for side in fixed) and fixed != (size, size):
        raise UserError(
            f"--network-size {size}: {generator.name} ({type(generator).__name__}) takes only "
            f"{fixed[0]}x{fixed[1]} inputs; leave --network-size out, or train at that size"
        )
    try:
        generator.check_size(size)
    except ValueError as error:
        raise UserError(f"--network-size: {error}") from None
    generator.trained_image_size = generator.image_size  # the files' metadata keep both
    generator.image_size = int(size)


def write_serving_model(generator, tmp, name, version):
    """The SavedModel for TF Serving under `tmp/serving/<name>/<version>/`; its report row."""
    from keras_colorizer.export.report import folder_size
    from keras_colorizer.export.saved_model import serving_path, write_saved_model

    path = serving_path(tmp, name, version)
    print(f"[saved_model] writing {os.path.relpath(path, tmp)} ...", flush=True)
    write_saved_model(generator, generator.image_size, path)
    return {"artifact": os.path.relpath(path, tmp), "size_mb": folder_size(path) / 2**20}


def tflite_metadata(generator, size, version, checkpoint, step):
    """What each TFLite file carries about itself: signatures, value ranges, version and the generator's config."""
    from keras_colorizer import signatures as names

    network = generator.image_size or size  # the side the network runs at (`MobileModule`)
    return {
        "model_version": version,
        "checkpoint": checkpoint,
        "step": step,
        "signatures": {
            names.MOBILE_COLORIZE: {
                "inputs": {names.MOBILE_INPUT: f"uint8 [1, {size}, {size}, 1], 0..255"},
                "outputs": {names.MOBILE_OUTPUT: f"uint8 [1, {size}, {size}, 3], 0..255"},
            },
            names.PREDICT_AB: {
                "inputs": {names.PREDICT_AB_INPUT: f"float32 [1, {network}, {network}, 1], L/50 - 1 in [-1, 1]"},
                "outputs": {names.PREDICT_AB_OUTPUT: f"float32 [1, {network}, {network}, 2], ab/110 in [-1, 1]"},
            },
        },
        "generator": {"class": type(generator).__name__, "config": generator.get_config(),
                      "trained_image_size": getattr(generator, "trained_image_size", generator.image_size)},
    }


def write_tflite_files(generator, tmp, variants, args, checkpoint, step):
    """Convert every variant into `tmp/tflite/`, check its ops, time and score it; their report rows."""
    from keras_colorizer.export.graphs import to_gray
    from keras_colorizer.export.report import keras_reference, litert_latency_ms, run_tflite, score
    from keras_colorizer.export.tflite import check_builtin_ops, convert_variants

    folder = os.path.join(tmp, "tflite")
    os.makedirs(folder)
    gray = to_gray(photo_crops(args.calibration, args.size, args.calibration_crops, held_out=False))
    metadata = tflite_metadata(generator, args.size, args.version, checkpoint, step)
    written = convert_variants(generator, args.size, variants, gray, folder, metadata, progress=lambda line: print(line, flush=True))
    originals = photo_crops(args.calibration, args.size, args.eval_crops, held_out=True)
    reference = keras_reference(generator, args.size, originals)
    rows = [{"artifact": "keras float32 (reference)", "size_mb": None, **score(reference, reference, originals)}]
    probe = reference["gray"][:1]
    for variant, path in written.items():
        check_builtin_ops(path)
        row = {
            "artifact": os.path.relpath(path, tmp),
            "size_mb": os.path.getsize(path) / 2**20,
            "latency_ms_1_thread": litert_latency_ms(path, probe, 1),
            "latency_ms_2_threads": litert_latency_ms(path, probe, 2),
            **score(run_tflite(path, reference), reference, originals),
        }
        rows.append(row)
        print(
            f"[tflite] {variant}: {row['size_mb']:.1f} MB, {row['latency_ms_2_threads']:.0f} ms (2 threads), "
            f"agreement {row['agreement_psnr_db']:.1f} dB",
            flush=True,
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
