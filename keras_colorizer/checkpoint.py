"""Checkpoints that survive interruption: generator, discriminator, both optimizers, step and epoch.

A checkpoint is a folder `checkpoints/step-0000120/` holding

    generator.weights.h5       discriminator.weights.h5
    optimizers.npz             state.json (step, epoch, training options)

It is written under a temporary name and renamed into place when complete,
so a crash during a save never replaces a good checkpoint with a broken one;
a folder without the temporary prefix is always whole.
"""

import json
import os
import shutil
import warnings

import numpy as np

from keras_colorizer.config import write_json
from keras_colorizer.errors import UserError

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"
GENERATOR_FILE = "generator.weights.h5"
DISCRIMINATOR_FILE = "discriminator.weights.h5"
OPTIMIZERS_FILE = "optimizers.npz"
_PREFIX = "step-"
_TMP = ".tmp-"


class CheckpointError(UserError):
    """A checkpoint is missing, incomplete, or of another model."""


def _step_dirs(folder):
    if not os.path.isdir(folder):
        return []
    names = [n for n in os.listdir(folder) if n.startswith(_PREFIX) and n[len(_PREFIX):].isdigit()]
    return [os.path.join(folder, n) for n in sorted(names, key=lambda n: int(n[len(_PREFIX):]))]


def save_checkpoint(model, run_dir, epoch, options, keep=2):
    """Save `model` (a compiled `Pix2Pix`) into `run_dir/checkpoints/`; return the new folder."""
    folder = os.path.join(run_dir, CHECKPOINTS)
    os.makedirs(folder, exist_ok=True)
    step = int(model.steps_taken.numpy())
    final = os.path.join(folder, f"{_PREFIX}{step:07d}")
    tmp = os.path.join(folder, f"{_TMP}{_PREFIX}{step:07d}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    model.generator.save_weights(os.path.join(tmp, GENERATOR_FILE))
    model.discriminator.save_weights(os.path.join(tmp, DISCRIMINATOR_FILE))
    store = {}
    for prefix, optimizer in (("g", model.g_optimizer), ("d", model.d_optimizer)):
        # All of `variables`, in order: a LossScaleOptimizer's own `save_own_variables`
        # leaves out its inner optimizer's, or the other way round.
        store.update({f"{prefix}/{i}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)})
    np.savez(os.path.join(tmp, OPTIMIZERS_FILE), **store)
    write_json(os.path.join(tmp, STATE_FILE), {"step": step, "epoch": int(epoch), "options": dict(options)})
    if os.path.exists(final):
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in _step_dirs(folder)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


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
    """The state.json of a checkpoint folder: step, epoch and options."""
    path = os.path.join(checkpoint, STATE_FILE)
    try:
        with open(path) as f:
            state = json.load(f)
        return {"step": int(state["step"]), "epoch": int(state["epoch"]), "options": dict(state["options"])}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint state ({error})") from None


def _load_weights(model, path):
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: missing (the checkpoint is incomplete)")
    try:
        # Keras only warns when parts of a file do not fit; a half-loaded model is an error here.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_weights(path)
        skipped = [str(w.message) for w in caught if "skipping" in str(w.message).lower()]
        if skipped:
            raise ValueError(skipped[0])
    except Exception as error:  # noqa: BLE001 - h5py and Keras raise several types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: does not fit the {model.name} built from the options ({first_line})") from None


def load_generator_weights(generator, checkpoint):
    """Load a checkpoint's generator weights into `generator`."""
    _load_weights(generator, os.path.join(checkpoint, GENERATOR_FILE))


def restore_checkpoint(model, checkpoint):
    """Restore generator, discriminator, both optimizers and the step count of a compiled `Pix2Pix`."""
    _load_weights(model.generator, os.path.join(checkpoint, GENERATOR_FILE))
    _load_weights(model.discriminator, os.path.join(checkpoint, DISCRIMINATOR_FILE))
    model.build_optimizers()
    path = os.path.join(checkpoint, OPTIMIZERS_FILE)
    try:
        with np.load(path, allow_pickle=False) as saved:
            stores = {"g": {}, "d": {}}
            for key in saved.files:
                prefix, index = key.split("/", 1)
                stores[prefix][index] = saved[key]
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable optimizer state ({error})") from None
    for prefix, optimizer in (("g", model.g_optimizer), ("d", model.d_optimizer)):
        store = stores[prefix]
        if len(store) != len(optimizer.variables):
            raise CheckpointError(
                f"{path}: holds {len(store)} {prefix}-optimizer variables, expected {len(optimizer.variables)}"
            )
        for i, variable in enumerate(optimizer.variables):
            value = store[str(i)]
            if tuple(value.shape) != tuple(variable.shape):
                raise CheckpointError(
                    f"{path}: {prefix}-optimizer variable {variable.path} has shape {value.shape}, expected {tuple(variable.shape)}"
                )
            variable.assign(value)
    model.steps_taken.assign(read_state(checkpoint)["step"])
