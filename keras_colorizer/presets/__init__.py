"""Ready-made colorizers shipped inside the package, the keras-hub way: `Colorizer.from_preset(name)`.

A preset is a folder here holding what a checkpoint holds for inference
(`generator.keras`, `state.json` with the step and the training options)
plus `preset.json` (a one-line description, its scores, and the settings
it was measured best at, all `Colorizer`'s: `network_size`, the side its
network runs at when that is not its training size, `detail_size`, and
`saturation`) and
`model_card.md` (what it was trained on, under which terms, how it scores,
where it fails). Anything that takes a checkpoint takes a preset folder;
the commands and `Colorizer.from_preset` also take its name. Loading reads
only these files: no network.
"""

import json
import os

from keras_colorizer.errors import UserError

PRESETS_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PRESET = "lite0_unet_tiny_imagenet"
PRESET_FILE = "preset.json"


def list_presets():
    """{name: one-line description} of the presets this install ships."""
    presets = {}
    for name in sorted(os.listdir(PRESETS_DIR)):
        path = os.path.join(PRESETS_DIR, name, PRESET_FILE)
        if "." not in name and os.path.isfile(path):  # not a half-built `NAME.tmp-PID` of tools/make_preset.py
            with open(path) as f:
                presets[name] = json.load(f)["description"]
    return presets


SETTINGS = ("network_size", "detail_size", "saturation")


def preset_setting(folder, name):
    """The preset in `folder`'s own value of a setting from `SETTINGS`, or None (unset, or a folder that is no preset).

    The loaders and `export` use it where the caller gives none.
    """
    if name not in SETTINGS:
        raise ValueError(f"Unknown preset setting. Expected one of: {', '.join(SETTINGS)}. Received: {name!r}")
    path = os.path.join(folder, PRESET_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f).get(name)


def preset_path(name):
    """The folder of the preset `name`, or UserError naming the presets there are."""
    path = os.path.join(PRESETS_DIR, str(name))
    if os.sep in str(name) or "." in str(name) or not name or not os.path.isfile(os.path.join(path, PRESET_FILE)):
        raise UserError(f"{name}: no such preset; this install has {', '.join(list_presets()) or 'none'}")
    return path


def resolve_model(model):
    """A model argument as a path: a bare name that is no file here but a preset's is that preset's folder.

    Anything else (an existing path, or one with a folder in it) is returned
    as it is, for the loaders to accept or refuse.
    """
    model = os.fspath(model)
    if os.path.exists(model) or os.sep in model:
        return model
    if model in list_presets():
        return preset_path(model)
    raise UserError(
        f"{model}: no such run, checkpoint or file, and no preset of that name "
        f"(presets: {', '.join(list_presets()) or 'none'})"
    )


__all__ = ["DEFAULT_PRESET", "list_presets", "SETTINGS", "preset_setting", "preset_path", "resolve_model"]
