"""`python -m export RUN_OR_CHECKPOINT --out DIR`: SavedModel for TF Serving and TFLite files for phones."""

import argparse
import os
import shutil
import sys

import numpy as np

from keras_colorizer.cli.common import fail, quiet_tensorflow

FORMATS = ("saved_model", "tflite")


def build_parser():
    from export.tflite import DEFAULT_VARIANTS, VARIANTS

    parser = argparse.ArgumentParser(
        prog="python -m export",
        description="Export a trained generator: a SavedModel laid out for TensorFlow Serving and "
        "TFLite (LiteRT) files for phones, with a report of sizes, latency and agreement.",
    )
    parser.add_argument("model", metavar="RUN_OR_CHECKPOINT", help="a run folder (its latest checkpoint) or a checkpoint folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (refused if it exists, unless --overwrite)")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, from {', '.join(FORMATS)} (default: all)")
    parser.add_argument(
        "--variants", default=",".join(DEFAULT_VARIANTS),
        help=f"TFLite variants, from {', '.join(VARIANTS)} (default: {','.join(DEFAULT_VARIANTS)}; int16x8 is for "
        "accelerators that run 16x8: on a CPU it runs 25-60x slower than float32)",
    )
    parser.add_argument("--size", type=int, default=256, help="the TFLite files' static input size (default: 256)")
    parser.add_argument("--model-name", default="colorizer", help="TF Serving model name (default: colorizer)")
    parser.add_argument("--version", type=int, default=1, help="TF Serving model version (default: 1)")
    parser.add_argument("--calibration", metavar="DIR", default=None, help="colour photos for int8 calibration (default: the built-in photos)")
    parser.add_argument("--calibration-crops", type=int, default=100, help="crops drawn from them (default: 100)")
    parser.add_argument("--eval-crops", type=int, default=8, help="crops of other photos that score the TFLite files (default: 8)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
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
    from export.generator import load_float32_generator
    from export.graphs import to_gray
    from export.report import folder_size, keras_reference, litert_latency_ms, run_tflite, score, write_report
    from export.saved_model import serving_path, write_saved_model
    from export.tflite import VARIANTS, convert_variants, ops_in
    from keras_colorizer.errors import UserError
    from keras_colorizer.models import check_image_size

    formats = parse_list(args.formats, FORMATS, "formats")
    variants = parse_list(args.variants, VARIANTS, "variants") if "tflite" in formats else []
    out = os.path.abspath(args.out)
    if os.path.exists(out) and not args.overwrite:
        raise UserError(f"{out}: exists; choose another --out or pass --overwrite")
    generator, options, checkpoint = load_float32_generator(args.model)
    try:
        check_image_size(args.size, options.generator_levels)
    except ValueError as error:
        raise UserError(f"--size: {error}") from None
    gray = to_gray(photo_crops(args.calibration, args.size, args.calibration_crops, held_out=False)) if variants else []

    tmp = f"{out}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    rows = []
    try:
        if "saved_model" in formats:
            path = serving_path(tmp, args.model_name, args.version)
            print(f"[saved_model] writing {os.path.relpath(path, tmp)} ...", flush=True)
            write_saved_model(generator, options.image_size, path)
            rows.append({"artifact": os.path.relpath(path, tmp), "size_mb": folder_size(path) / 2**20})
        if variants:
            folder = os.path.join(tmp, "tflite")
            os.makedirs(folder)
            metadata = {
                "model_version": args.version,
                "checkpoint": checkpoint,
                "signatures": {
                    "colorize": {"inputs": {"gray": f"uint8 [1, {args.size}, {args.size}, 1], 0..255"},
                                 "outputs": {"rgb": f"uint8 [1, {args.size}, {args.size}, 3], 0..255"}},
                    "predict_ab": {"inputs": {"l": f"float32 [1, {args.size}, {args.size}, 1], L/50 - 1 in [-1, 1]"},
                                   "outputs": {"ab": f"float32 [1, {args.size}, {args.size}, 2], ab/110 in [-1, 1]"}},
                },
                "training": {k: options.to_dict()[k] for k in ("preset", "levels", "ngf", "norm", "image_size", "gan_mode", "lambda_l1", "epochs")},
            }
            written = convert_variants(
                generator, args.size, variants, gray, folder, metadata, progress=lambda line: print(line, flush=True)
            )
            originals = photo_crops(args.calibration, args.size, args.eval_crops, held_out=True)
            reference = keras_reference(generator, args.size, originals)
            rows.append({"artifact": "keras float32 (reference)", "size_mb": None, **score(reference, reference, originals)})
            for variant, path in written.items():
                bad = sorted(op for op in ops_in(path) if "FLEX" in op.upper() or "CUSTOM" in op.upper())
                if bad:
                    raise RuntimeError(f"{path}: holds non-builtin ops {bad}")
                probe = reference["gray"][:1]
                rows.append({
                    "artifact": os.path.relpath(path, tmp),
                    "size_mb": os.path.getsize(path) / 2**20,
                    "latency_ms_1_thread": litert_latency_ms(path, probe, 1),
                    "latency_ms_2_threads": litert_latency_ms(path, probe, 2),
                    **score(run_tflite(path, reference), reference, originals),
                })
                row = rows[-1]
                print(
                    f"[tflite] {variant}: {row['size_mb']:.1f} MB, {row['latency_ms_2_threads']:.0f} ms (2 threads), "
                    f"agreement {row['agreement_psnr_db']:.1f} dB",
                    flush=True,
                )
        table = write_report(tmp, rows)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(table)
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
