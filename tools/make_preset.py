"""Package a trained checkpoint as a preset shipped inside keras_colorizer (maintainers' tool).

usage: python tools/make_preset.py CHECKPOINT NAME --description TEXT --card MODEL_CARD.md
                                   [--float16] [--scores SUMMARY.json ...] [--tflite INT8.tflite]
                                   [--network-size PIXELS] [--detail-size PIXELS] [--saturation S]

Writes keras_colorizer/presets/NAME/: generator.keras (with --float16 its
weights stored as float16, read back into float32 variables: half the size),
state.json (step, epoch, the training options with data paths cut to their
last two parts), preset.json (description, scores, and where measured
better than the plain recipe, the `network_size` its network runs at,
the `detail_size` its photos are shown at and the `saturation` it draws
with), the model card, and with --tflite the int8
phone file `keras-colorizer export CHECKPOINT --variants int8` wrote
(colorizer_int8.tflite: what `keras-colorizer demo` runs in the browser)
with its metadata beside it as the export writes them (colorizer_int8.json:
the page reads the detail size and saturation there; it must have been
exported at the preset's network and detail sizes and saturation), except that the metadata's
`checkpoint`, in the file and beside it, is the preset's NAME rather
than the path it was exported from on this machine. The folder is built under a
temporary name and swapped into place as exports are (`keras_colorizer.swap`:
a kill at any moment leaves the old preset or the new one).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import zipfile

import h5py
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from keras_colorizer.run.checkpoint import GENERATOR_FILE, STATE_FILE, find_checkpoint, read_state  # noqa: E402
from keras_colorizer import swap  # noqa: E402
from keras_colorizer.atomic import write_json  # noqa: E402
from keras_colorizer.presets import PRESET_FILE, PRESETS_DIR  # noqa: E402

WEIGHTS_MEMBER = "model.weights.h5"


def _copy_h5_as_float16(source, target):
    def copy(name, item):
        if isinstance(item, h5py.Dataset):
            data = item[()]
            if isinstance(data, np.ndarray) and data.dtype == np.float32:
                data = data.astype(np.float16)
            target.create_dataset(name, data=data)
        else:
            target.require_group(name)
        for key, value in item.attrs.items():
            target[name].attrs[key] = value

    for key, value in source.attrs.items():
        target.attrs[key] = value
    source.visititems(copy)


def write_generator(source_keras, target_keras, float16):
    """Copy a `.keras` file, its float32 weights stored as float16 when asked."""
    if not float16:
        shutil.copyfile(source_keras, target_keras)
        return
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(source_keras) as zin:
        zin.extractall(tmp)  # our own checkpoint's three members
        half = os.path.join(tmp, "half.h5")
        with h5py.File(os.path.join(tmp, WEIGHTS_MEMBER), "r") as src, h5py.File(half, "w") as dst:
            _copy_h5_as_float16(src, dst)
        with zipfile.ZipFile(target_keras, "w", compression=zipfile.ZIP_STORED) as zout:
            for member in zin.namelist():
                zout.write(half if member == WEIGHTS_MEMBER else os.path.join(tmp, member), member)


def public_options(options):
    """Training options with local data paths cut to their last two parts (no home folders in a shipped file)."""
    def cut(path):
        return None if path is None else "/".join(os.path.normpath(str(path)).split(os.sep)[-2:])

    options = dict(options)
    for key in ("data", "val_data"):
        value = options.get(key)
        options[key] = [cut(v) for v in value] if isinstance(value, list) else cut(value)
    options["out"] = "runs"
    return options


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tools/make_preset.py", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("name")
    parser.add_argument("--description", required=True)
    parser.add_argument("--card", required=True, help="the model card (Markdown) to ship beside it")
    parser.add_argument("--float16", action="store_true")
    parser.add_argument("--scores", nargs="*", default=[], help="evaluate summary.json files to record")
    parser.add_argument("--tflite", help="the int8 .tflite file exported from this checkpoint")
    parser.add_argument("--network-size", type=int, default=None,
                        help="the side its network runs at when not its training size (Colorizer's network_size)")
    parser.add_argument("--detail-size", type=int, default=None,
                        help="the side photos' L is shrunk to before the network's (Colorizer's detail_size)")
    parser.add_argument("--saturation", type=float, default=None,
                        help="the colour scale it draws with when not 1 (Colorizer's saturation)")
    args = parser.parse_args(argv)
    checkpoint = find_checkpoint(args.checkpoint)
    state = read_state(checkpoint)
    final = os.path.join(PRESETS_DIR, args.name)
    with swap.locked(final):
        for line in swap.recover(final):
            print(line)
        staging = swap.staging_folder(final)
        try:
            build(args, checkpoint, state, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        swap.swap_in(staging, final)
    print(f"{final}: {os.path.getsize(os.path.join(final, GENERATOR_FILE)) / 1e6:.1f} MB generator, step {state['step']}")
    return 0


def build(args, checkpoint, state, staging):
    """Write the preset's files into the empty folder `staging`; SystemExit where the scores or phone file do not match."""
    os.chmod(staging, 0o755)
    write_generator(os.path.join(checkpoint, GENERATOR_FILE), os.path.join(staging, GENERATOR_FILE), args.float16)
    write_json(os.path.join(staging, STATE_FILE),
               {"step": state["step"], "epoch": state["epoch"], "options": public_options(state["options"])})
    scores = {}
    for path in args.scores:
        with open(path) as f:
            summary = json.load(f)
        side = args.network_size or state["options"]["image_size"]
        expected = (side, args.detail_size, args.saturation or 1.0)
        if (summary.get("network_size", side), summary.get("detail_size"), summary.get("saturation", 1.0)) != expected:
            raise SystemExit(f"{path}: expected scores at network size, detail size and saturation {expected}; these "
                             f"are at {(summary.get('network_size'), summary.get('detail_size'), summary.get('saturation'))}")
        scores[os.path.basename(os.path.normpath(summary["data"]))] = {
            "photos": summary["photos"], "model": summary["model_scores"], "gray": summary["gray_scores"]}
    write_json(os.path.join(staging, PRESET_FILE), {
        "description": args.description, "step": state["step"], "weights": "float16" if args.float16 else "float32",
        "scores": scores, **{name: value for name, value in (("network_size", args.network_size),
                                                            ("detail_size", args.detail_size),
                                                            ("saturation", args.saturation)) if value}})
    shutil.copyfile(args.card, os.path.join(staging, "model_card.md"))
    if args.tflite:
        from keras_colorizer.export.tflite import check_builtin_ops, embed_metadata, read_metadata

        check_builtin_ops(args.tflite)
        metadata = read_metadata(args.tflite) or {}
        exported = metadata.get("generator", {})
        network_size = args.network_size or exported.get("trained_image_size")
        settings = (network_size, args.detail_size, args.saturation or 1.0)
        if (metadata.get("variant"), metadata.get("step")) != ("int8", state["step"]) or \
                (exported.get("network_size"), exported.get("detail_size"), exported.get("saturation", 1.0)) != settings:
            raise SystemExit(f"{args.tflite}: expected the int8 export of step {state['step']} at network size, detail "
                             f"size and saturation {settings}; its metadata: {metadata}")
        metadata["checkpoint"] = args.name  # what it was exported from, as the tools take it: no path of this machine
        with open(args.tflite, "rb") as f:
            blob = embed_metadata(f.read(), metadata)
        with open(os.path.join(staging, "colorizer_int8.tflite"), "wb") as f:
            f.write(blob)
        with open(os.path.join(staging, "colorizer_int8.json"), "w") as f:  # as the export writes it beside the file
            json.dump(metadata, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
