"""The export folder: a SavedModel for TF Serving and TFLite files for phones, with a report, written crash-safe.

`export_model` is what `keras-colorizer export` runs; it raises `UserError`
(one line) for what the user can fix.
"""

import os
import shutil

import numpy as np

FORMATS = ("saved_model", "tflite")


def export_model(model, out, *, formats=FORMATS, variants=None, size=256, network_size=None, detail_size=None,
                 saturation=None, model_name="colorizer", version=1, calibration=None, calibration_crops=100,
                 eval_crops=8, overwrite=False, log=print):
    """Export `model` (a run, a checkpoint folder or a preset's name) into the folder `out`; return the report's rows.

    Args:
        formats: from `FORMATS`.
        variants: TFLite variants (`export.tflite.VARIANTS`; default `DEFAULT_VARIANTS`).
        size: the side of the photos the TFLite files' `colorize` takes.
        network_size: the side the network runs at in every file (default: the preset's own, else the
            generator's training size).
        detail_size: every file's photo signatures shrink the L to it before the network's size
            (`Colorizer`'s `detail_size`; default: the preset's own, none for a run).
        saturation: every file's photo signatures scale the colour by it (`Colorizer`'s `saturation`;
            default: the preset's own, 1 for a run); the JSON beside each TFLite file names it.
        model_name, version: where TF Serving finds the SavedModel (`serving/<name>/<version>/`).
        calibration: a folder of colour photos for int8 calibration (default: the built-in photos).
        calibration_crops, eval_crops: crops that calibrate, and crops of other photos that score the files.
        overwrite: replace an existing `out`; the old folder stays until the new one is complete.
        log: where progress lines go.
    """
    from keras_colorizer import swap
    from keras_colorizer.errors import UserError
    from keras_colorizer.export.generator import load_float32_generator
    from keras_colorizer.export.report import write_report
    from keras_colorizer.export.tflite import DEFAULT_VARIANTS, VARIANTS
    from keras_colorizer.inference import check_detail_size, check_saturation
    from keras_colorizer.presets import preset_setting, resolve_model

    variants = list(DEFAULT_VARIANTS if variants is None else variants) if "tflite" in formats else []
    for what, given, known in (("formats", formats, FORMATS), ("variants", variants, VARIANTS)):
        unknown = [v for v in given if v not in known]
        if unknown or (what == "formats" and not given):
            raise ValueError(f"Unknown or no export {what}. Expected some of: {', '.join(known)}. Received: {what}={given!r}")

    out = os.path.abspath(out)
    with swap.locked(out):  # a second export to the same folder is refused, not let loose on this one's folders
        for line in swap.recover(out):
            log(line)
        if os.path.exists(out) and not overwrite:
            raise UserError(f"{out}: exists; choose another --out or pass --overwrite")
        resolved = resolve_model(model)
        generator, checkpoint, step = load_float32_generator(resolved)
        network_size = preset_setting(checkpoint, "network_size") if network_size is None else network_size
        if network_size is not None:
            network_size = checked_network_size(generator, network_size)
        elif generator.image_size is None:  # then the network runs at --size, which must suit it
            try:
                generator.check_size(size)
            except ValueError as error:
                raise UserError(f"--size: {error}") from None
        network = network_size or generator.image_size or size  # the side the network runs at
        detail_size = check_detail_size(preset_setting(checkpoint, "detail_size") if detail_size is None else detail_size, network)
        saturation = preset_setting(checkpoint, "saturation") if saturation is None else saturation
        saturation = check_saturation(1.0 if saturation is None else saturation)
        try:
            tmp = swap.staging_folder(out)
        except OSError as error:
            raise UserError(f"{out}: cannot write the export there ({error.strerror or error})") from None
        try:
            rows = []
            if "saved_model" in formats:
                rows.append(write_serving_model(generator, tmp, model_name, version, network_size or generator.image_size,
                                                detail_size, saturation, log))
            if variants:
                # A preset is named as the tools take it, not by the folder it is installed in on this machine.
                source = os.fspath(model) if resolved != os.fspath(model) else checkpoint
                metadata = tflite_metadata(generator, size, network_size, detail_size, saturation, version, source, step)
                rows += write_tflite_files(generator, tmp, variants, size, network_size, detail_size, saturation,
                                           metadata, calibration, calibration_crops, eval_crops, log)
            table = write_report(tmp, rows)
            swap.swap_in(tmp, out)
        except BaseException as error:
            shutil.rmtree(tmp, ignore_errors=True)
            if is_disk_full(error):
                kept = f"the export already in {out} is kept as it was" if os.path.exists(out) else "nothing was written"
                raise UserError(f"{os.path.dirname(out)}: the disk is full (No space left on device); {kept}") from None
            raise
        log(table)
        log(f"Wrote {out}")
        return rows


def is_disk_full(error):
    """A full file system, as Python (ENOSPC, EDQUOT) or TensorFlow's file writers (ResourceExhaustedError) say it."""
    import errno

    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return type(error).__name__ == "ResourceExhaustedError" and "space left on device" in str(error).lower()


def checked_network_size(generator, size):
    """`size` if the loaded `generator` can run at it in the files written, else UserError: one line."""
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
    return int(size)


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


def write_serving_model(generator, tmp, name, version, network_size, detail_size, saturation, log):
    """The SavedModel for TF Serving under `tmp/serving/<name>/<version>/`; its report row."""
    from keras_colorizer.export.report import folder_size
    from keras_colorizer.export.saved_model import serving_path, write_saved_model

    path = serving_path(tmp, name, version)
    log(f"[saved_model] writing {os.path.relpath(path, tmp)} ...")
    write_saved_model(generator, network_size, path, detail_size, saturation)
    return {"artifact": os.path.relpath(path, tmp), "size_mb": folder_size(path) / 2**20}


def tflite_metadata(generator, size, network_size, detail_size, saturation, version, checkpoint, step):
    """What each TFLite file carries about itself: signatures, value ranges, version and the generator's config."""
    from keras_colorizer import signatures as names

    network = network_size or generator.image_size or size  # the side the network runs at (`MobileModule`)
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
                      "trained_image_size": generator.image_size, "network_size": network, "detail_size": detail_size,
                      "saturation": saturation},
    }


def write_tflite_files(generator, tmp, variants, size, network_size, detail_size, saturation, metadata, calibration,
                       calibration_crops, eval_crops, log):
    """Convert every variant into `tmp/tflite/`, check its ops, time and score it; their report rows."""
    from keras_colorizer.export.graphs import to_gray
    from keras_colorizer.export.report import keras_reference, litert_latency_ms, run_tflite, score
    from keras_colorizer.export.tflite import check_builtin_ops, convert_variants

    folder = os.path.join(tmp, "tflite")
    os.makedirs(folder)
    gray = to_gray(photo_crops(calibration, size, calibration_crops, held_out=False))
    written = convert_variants(generator, size, variants, gray, folder, metadata, network_size=network_size,
                               detail_size=detail_size, saturation=saturation, progress=log)
    originals = photo_crops(calibration, size, eval_crops, held_out=True)
    reference = keras_reference(generator, size, originals, network_size, detail_size, saturation)
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
        log(
            f"[tflite] {variant}: {row['size_mb']:.1f} MB, {row['latency_ms_2_threads']:.0f} ms (2 threads), "
            f"agreement {row['agreement_psnr_db']:.1f} dB"
        )
    return rows
