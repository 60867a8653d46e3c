"""Checkpoints that survive interruption: generator, discriminator, both optimizers, step and epoch.

A checkpoint is a folder `checkpoints/step-0000120/` holding

    generator.keras            the generator: `keras.saving.load_model` rebuilds it
    discriminator.keras        the discriminator, the same way
    optimizers.npz             both optimizers' variables, keyed by variable path
    state.json                 step, epoch, the random state of the consistency crops (`film_seeds`), the training options

It is written under a temporary name and renamed into place when complete;
old checkpoints are renamed to a temporary name before they are deleted. So
a folder named `step-*` is always whole, whenever the process dies, and the
temporary folders a killed process leaves are removed by the next save.
Checkpoints of earlier versions (`*.weights.h5`, optimizer variables by
position) still load.
"""

import json
import os
import shutil
import warnings
import zipfile
import zlib

import numpy as np

from keras_colorizer.atomic import write_json
from keras_colorizer.crashpoints import reached
from keras_colorizer.errors import UserError, first_line

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"
GENERATOR_FILE = "generator.keras"
DISCRIMINATOR_FILE = "discriminator.keras"
OPTIMIZERS_FILE = "optimizers.npz"
# Files of checkpoints written before the networks were saved as `.keras`.
LEGACY_WEIGHTS = {GENERATOR_FILE: "generator.weights.h5", DISCRIMINATOR_FILE: "discriminator.weights.h5"}
_PREFIX = "step-"
_TMP = ".tmp-"


class CheckpointError(UserError):
    """A checkpoint is missing, incomplete, or of another model."""


def _step_dirs(folder):
    if not os.path.isdir(folder):
        return []
    names = [n for n in os.listdir(folder) if n.startswith(_PREFIX) and n[len(_PREFIX):].isdigit()]
    return [os.path.join(folder, n) for n in sorted(names, key=lambda n: int(n[len(_PREFIX):]))]


def _remove_leftovers(folder):
    """Delete the temporary folders of saves and deletions that a killed process left."""
    for name in os.listdir(folder):
        if name.startswith(_TMP):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def _delete_whole(path):
    """Rename a checkpoint out of the `step-*` names, then delete it: no half-deleted checkpoint keeps its name."""
    doomed = os.path.join(os.path.dirname(path), f"{_TMP}deleting-{os.path.basename(path)}-{os.getpid()}")
    os.replace(path, doomed)
    reached("checkpoint-pruning")
    shutil.rmtree(doomed, ignore_errors=True)


def optimizer_arrays(prefix, optimizer):
    """An optimizer's variables as {`prefix/path`: array}, every one of `variables`.

    A LossScaleOptimizer's own `save_own_variables` leaves out its inner
    optimizer's variables, or the other way round; `variables` has both.
    """
    arrays = {f"{prefix}/{v.path}": np.asarray(v.numpy()) for v in optimizer.variables}
    if len(arrays) != len(optimizer.variables):
        raise ValueError(f"{optimizer.name}: two variables share a path; cannot key its state by path")
    return arrays


def save_checkpoint(model, run_dir, epoch, options, keep=2):
    """Save `model` (a compiled `Pix2Pix`) into `run_dir/checkpoints/`; return the new folder."""
    folder = os.path.join(run_dir, CHECKPOINTS)
    os.makedirs(folder, exist_ok=True)
    _remove_leftovers(folder)
    step = int(model.steps_taken.numpy())
    final = os.path.join(folder, f"{_PREFIX}{step:07d}")
    tmp = os.path.join(folder, f"{_TMP}{_PREFIX}{step:07d}-{os.getpid()}")
    os.makedirs(tmp)
    try:
        model.generator.save(os.path.join(tmp, GENERATOR_FILE))
        model.discriminator.save(os.path.join(tmp, DISCRIMINATOR_FILE))
        arrays = {**optimizer_arrays("g", model.g_optimizer), **optimizer_arrays("d", model.d_optimizer)}
        np.savez(os.path.join(tmp, OPTIMIZERS_FILE), **arrays)
        # The consistency crops' random state: a resumed run draws the offsets an unbroken one would.
        film_seeds = [int(v) for v in np.asarray(model.film_seeds.state.numpy())]
        write_json(os.path.join(tmp, STATE_FILE),
                   {"step": step, "epoch": int(epoch), "film_seeds": film_seeds, "options": dict(options)})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk, say: give its space back, keep the last checkpoint
        raise
    reached("checkpoint-written")
    if os.path.exists(final):
        _delete_whole(final)
    os.replace(tmp, final)
    reached("checkpoint-renamed")
    for old in _step_dirs(folder)[:-keep]:
        _delete_whole(old)
    return final


def latest_checkpoint(run_dir):
    """The newest whole checkpoint of a run folder, or None."""
    found = _step_dirs(os.path.join(run_dir, CHECKPOINTS))
    return found[-1] if found else None


def find_checkpoint(path):
    """The checkpoint folder `path` names: a checkpoint itself, a run (its latest), or a checkpoints folder."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such run or checkpoint")
    if os.path.isfile(os.path.join(path, STATE_FILE)):
        return path
    for folder in (os.path.join(path, CHECKPOINTS), path):
        found = _step_dirs(folder)
        if found:
            return found[-1]
    raise CheckpointError(
        f"{path}: holds no checkpoint (expected a run folder with {CHECKPOINTS}/{_PREFIX}*/ or a checkpoint folder with {STATE_FILE})"
    )


def read_state(checkpoint):
    """The state.json of a checkpoint folder: step, epoch, options and (since 2026-12-02) the film seeds."""
    path = os.path.join(checkpoint, STATE_FILE)
    try:
        with open(path) as f:
            state = json.load(f)
        read = {"step": int(state["step"]), "epoch": int(state["epoch"]), "options": dict(state["options"])}
        if read["step"] < 0 or read["epoch"] < 0 or not isinstance(state["step"], int):
            raise ValueError(f"step {state['step']!r} and epoch {state['epoch']!r} must be whole numbers >= 0")
        if "film_seeds" in state:
            read["film_seeds"] = [int(v) for v in state["film_seeds"]]
        return read
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint state ({error})") from None


def read_options(checkpoint):
    """The training options a checkpoint (or preset) saved, checked: OptionError names its state.json and the field."""
    from keras_colorizer.run.options import OptionError, TrainOptions

    options = read_state(checkpoint)["options"]
    try:
        return TrainOptions.from_dict(options).validate()
    except ValueError as error:
        raise OptionError(f"{os.path.join(checkpoint, STATE_FILE)}: {error}") from None


def _network_file(checkpoint, name):
    """The path of a network's file in a checkpoint: `.keras`, or an older checkpoint's `.weights.h5`."""
    path = os.path.join(checkpoint, name)
    legacy = os.path.join(checkpoint, LEGACY_WEIGHTS[name])
    if os.path.isfile(path) or not os.path.isfile(legacy):
        return path
    return legacy


def check_whole(path):
    """CheckpointError unless the `.keras` file `path` is a whole zip (every member's CRC checked)."""
    if not path.endswith(".keras"):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = archive.namelist()
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error):
        broken, names = path, []
    if broken is not None:
        raise CheckpointError(f"{path} is damaged (not a complete .keras file)")
    for name in names:  # refused here, in one line, before Keras warns about it
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise CheckpointError(f"{path}: refused, its entry {name!r} points outside the file (zip-slip)")


def load_weights(model, path):
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: missing (the checkpoint is incomplete)")
    check_whole(path)
    try:
        # Keras only warns when parts of a file do not fit; a half-loaded model is an error here.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_weights(path)
        skipped = [str(w.message) for w in caught if "skipping" in str(w.message).lower()]
        if skipped:
            raise ValueError(skipped[0])
    except Exception as error:  # noqa: BLE001 - h5py, zipfile and Keras raise several types
        raise CheckpointError(f"{path}: does not fit the {model.name} built from the options ({first_line(error)})") from None


def load_generator(checkpoint):
    """The generator of a checkpoint, as `keras.saving.load_model` rebuilds it from `generator.keras`.

    Checkpoints written before the networks were saved as `.keras` hold
    weights only; for them the generator is rebuilt from the run's options.
    Under any dtype policy the caller sets (the export sets float32).
    """
    import keras

    path = os.path.join(checkpoint, GENERATOR_FILE)
    if os.path.isfile(path):
        import keras_colorizer.models  # noqa: F401 - registers the generator classes

        check_whole(path)
        try:
            return keras.saving.load_model(path, compile=False)
        except Exception as error:  # noqa: BLE001 - zipfile, h5py and Keras raise several types
            raise CheckpointError(f"{path}: not a readable generator ({first_line(error)})") from None
    legacy = os.path.join(checkpoint, LEGACY_WEIGHTS[GENERATOR_FILE])
    if not os.path.isfile(legacy):
        raise CheckpointError(f"{path}: missing (the checkpoint is incomplete)")
    from keras_colorizer.models import build_generator

    options = read_options(checkpoint)
    generator = build_generator(options.generator, **options.generator_settings())
    load_weights(generator, legacy)
    return generator


def _saved_optimizer_arrays(path):
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {key: saved[key] for key in saved.files}
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable optimizer state ({error})") from None


def restore_optimizer(optimizer, prefix, saved, path):
    """Assign an optimizer's variables from saved arrays keyed `prefix/<variable path>`.

    Checkpoints of earlier versions keyed them by position (`prefix/0`, ...);
    those are read by position.
    """
    by_path = {key[len(prefix) + 1:]: value for key, value in saved.items() if key.startswith(prefix + "/")}
    legacy = bool(by_path) and all(key.isdigit() for key in by_path)
    keys = [str(i) for i in range(len(optimizer.variables))] if legacy else [v.path for v in optimizer.variables]
    missing = sorted(set(keys) - set(by_path))
    if missing or len(by_path) != len(keys):
        raise CheckpointError(
            f"{path}: holds {len(by_path)} {prefix}-optimizer variables, expected {len(keys)}"
            + (f" (missing {missing[0]})" if missing else "")
        )
    for key, variable in zip(keys, optimizer.variables):
        value = by_path[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise CheckpointError(
                f"{path}: {prefix}-optimizer variable {variable.path} has shape {value.shape}, expected {tuple(variable.shape)}"
            )
        variable.assign(value)


def restore_checkpoint(model, checkpoint):
    """Restore generator, discriminator, both optimizers and the step count of a compiled `Pix2Pix`."""
    load_weights(model.generator, _network_file(checkpoint, GENERATOR_FILE))
    load_weights(model.discriminator, _network_file(checkpoint, DISCRIMINATOR_FILE))
    model.build_optimizers()
    path = os.path.join(checkpoint, OPTIMIZERS_FILE)
    saved = _saved_optimizer_arrays(path)
    for prefix, optimizer in (("g", model.g_optimizer), ("d", model.d_optimizer)):
        restore_optimizer(optimizer, prefix, saved, path)
    state = read_state(checkpoint)
    model.steps_taken.assign(state["step"])
    if "film_seeds" in state:  # checkpoints before 2026-12-02 have none; their runs drew no offsets
        model.film_seeds.state.assign(np.asarray(state["film_seeds"], model.film_seeds.state.dtype))
