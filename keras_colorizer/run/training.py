"""A training run from options to `runs/<name>/`: data, models, callbacks, `model.fit`."""

import dataclasses
import errno
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass

import keras

from keras_colorizer import data as data_lib
from keras_colorizer.run import distribute
from keras_colorizer.gan import rebalance
from keras_colorizer.run.callbacks import (
    CountSteps,
    HistoryCSV,
    RunState,
    SampleGrid,
    SaveCheckpoint,
    StopAtStep,
    StopOnInterrupt,
    StopOnNonFinite,
    WarmUpSchedule,
)
from keras_colorizer.run.checkpoint import (
    GENERATOR_FILE,
    CheckpointError,
    find_checkpoint,
    load_weights,
    read_options,
    read_state,
    restore_checkpoint,
)
from keras_colorizer.run.options import ARCHITECTURE_OPTIONS, PHASE_OPTIONS, RUNTIME_OPTIONS, OptionError, TrainOptions
from keras_colorizer.errors import UserError
from keras_colorizer.run.assemble import build_model, quiet_grappler


# Keep decoded photos in memory when they fit in this budget.
CACHE_BUDGET_BYTES = 4 * 1024**3


@dataclass
class RunResult:
    run_dir: str
    steps: int
    history: dict
    checkpoint: str = None
    diverged: str = None
    interrupted: bool = False
    model: object = None  # the trained `Pix2Pix`


def new_run_dir(out, name=None):
    """A fresh `out/<name>` (default name: date and time), never an existing folder."""
    base = name or time.strftime("%Y-%m-%d_%H-%M-%S")
    path, n = os.path.join(out, base), 1
    while os.path.exists(path):
        if name:
            raise OptionError(f"{path}: a run with this name exists; pick another --name or continue it with --resume {path}")
        n += 1
        path = os.path.join(out, f"{base}_{n}")
    try:
        os.makedirs(path)
    except OSError as error:
        raise OptionError(f"{path}: cannot create the run folder there ({error.strerror or error}); choose another --out") from None
    return path


def _unstarted_run(path):
    """True for a run folder that stopped before its first checkpoint (options.json, no checkpoint)."""
    if not os.path.isfile(os.path.join(os.fspath(path), "options.json")):
        return False
    try:
        find_checkpoint(path)
    except CheckpointError:
        return True
    return False


def init_checkpoint(init_from):
    """The checkpoint folder `--init-from` names: a preset (by name or folder), a run or a checkpoint."""
    from keras_colorizer.presets import resolve_model

    return find_checkpoint(resolve_model(init_from))


def _setting(value):
    """An option's value as a message shows it: switches on or off, unset ones as the default."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return "default" if value is None else str(value)


def adopt_architecture(options):
    """`options` with the generator architecture and training size of the model `--init-from` names.

    An architecture option set away from its default to another value than the model's is refused
    (`OptionError`): the run could only ignore it.
    """
    saved = read_options(init_checkpoint(options.init_from))
    defaults = TrainOptions()
    for name in ARCHITECTURE_OPTIONS:
        given, own = getattr(options, name), getattr(saved, name)
        if isinstance(given, bool) and own is None:
            own = False  # a switch a model predates is off in it
        if given != getattr(defaults, name) and given != own:
            flag = "--" + name.replace("_", "-")
            raise OptionError(f"{flag} {_setting(given)}: --init-from {options.init_from} starts from a generator with its "
                              f"own architecture ({flag} {_setting(own)}); leave {flag} out, or train without --init-from")
    return dataclasses.replace(options, **{name: getattr(saved, name) for name in ARCHITECTURE_OPTIONS})


def resolve_steps_per_epoch(options, n_train):
    if options.steps_per_epoch:
        return options.steps_per_epoch
    return max(1, math.ceil(n_train / options.batch_size))


def train(options=None, resume=None, max_steps=None, verbose="auto", extra_callbacks=(), changes=None):
    """Train pix2pix as `options` say, or continue the run `resume` names.

    Args:
        options: `TrainOptions` for a new run.
        resume: a run folder or checkpoint to continue exactly, with its saved options.
        changes: when resuming, new values of `RUNTIME_OPTIONS` (`epochs`
            extends a run; strategy, compilation and caching may change) and
            of `PHASE_OPTIONS` (the loss settings of a later phase).
        max_steps: stop after this many steps in all (a checkpoint is saved).
        verbose: passed to `model.fit` (progress bar by default).

    Returns:
        A `RunResult`.
    """
    start_step, checkpoint, run_dir = 0, None, None
    if resume is not None:
        if options is not None:
            raise ValueError("train(): give options for a new run or resume=RUN (with changes), not both")
        changes = dict(changes or {})
        changeable = RUNTIME_OPTIONS + PHASE_OPTIONS
        fixed = sorted(set(changes) - set(changeable))
        if fixed:
            raise OptionError(
                f"--resume continues a run with its saved options; of the others only "
                f"{', '.join('--' + k.replace('_', '-') for k in changeable)} may be given. "
                f"Received: {', '.join('--' + k.replace('_', '-') for k in fixed)}"
            )
        if _unstarted_run(resume):
            # Killed before its first checkpoint: start it again, in its folder, from its saved options.
            run_dir = os.path.abspath(resume)
            saved = TrainOptions.load(os.path.join(run_dir, "options.json"))
            print(f"{run_dir} stopped before its first checkpoint; starting it again from its saved options.", flush=True)
        else:
            checkpoint = find_checkpoint(resume)
            state = read_state(checkpoint)
            saved, start_step = read_options(checkpoint), state["step"]
            run_dir = os.path.dirname(os.path.dirname(os.path.abspath(checkpoint)))
        options = dataclasses.replace(saved, **changes)
    options = options or TrainOptions()
    if resume is None and options.init_from:
        options = adopt_architecture(options)
    options = options.validate()
    if resume is not None:
        _announce_phase(saved, options, start_step)
    # The strategy first: MultiWorkerMirroredStrategy must exist before other TensorFlow work.
    placement = distribute.place(options.strategy, options.batch_size, options.precision)
    previous_policy = keras.config.dtype_policy()
    distribute.set_precision(options.precision)
    try:
        return _train(options, placement, run_dir, checkpoint, start_step, max_steps, verbose, extra_callbacks)
    finally:
        keras.config.set_dtype_policy(previous_policy)
        placement.release()


def _shown(value):
    """An option's value as the command line takes it: 100 for 100.0."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _announce_phase(saved, options, start_step):
    """Say which loss settings (`PHASE_OPTIONS`) a resumed run changes from `start_step` on."""
    for name in PHASE_OPTIONS:
        before, after = getattr(saved, name), getattr(options, name)
        if before != after:
            print(f"From step {start_step} on: --{name.replace('_', '-')} {_shown(after)} (was {_shown(before)}); the "
                  "networks, optimizers and schedule go on.", flush=True)


def _train(options, placement, run_dir, checkpoint, start_step, max_steps, verbose, extra_callbacks):
    source, train_idx, val_idx, pass_counts = data_lib.open_training_data(
        options.data_paths(),
        weights=options.data_weight_values(),
        val_data=options.val_data,
        val_split=options.val_split,
        val_max=options.val_max,
        seed=options.seed,
        cache_short_side=data_lib.load_size(options.image_size, options.jitter),
        cache_budget_bytes=CACHE_BUDGET_BYTES,
        cache=options.cache,
    )
    steps_per_epoch = resolve_steps_per_epoch(options, len(train_idx))
    total_steps = options.epochs * steps_per_epoch
    ab_weights = None
    if options.rebalance:
        # Counted afresh on resume: the same photos give the same weights.
        print("Colour rebalancing: counting the training images' colours...", flush=True)
        ab_weights = rebalance.weights_from_source(source, train_idx, mix=options.rebalance)
        weighted = "classification loss" if options.ab_head == "classes" else "L1"
        print(f"Colour rebalancing: {weighted} weights {ab_weights.min():.2f} (common colours) to {ab_weights.max():.1f} "
              f"(rare), from the colours of the {len(train_idx)} training images.", flush=True)
    with placement.scope():
        model = build_model(options, source.encoding, steps_per_epoch, synchronized_norm=placement.synchronized_norm,
                            ab_weights=ab_weights)
    # The run folder once everything that can fail on a user's input has passed: a refused run leaves nothing.
    run_dir = _run_folder(options, placement, run_dir)
    try:
        options.save(os.path.join(run_dir, "options.json"))
        _announce(options, placement, source, train_idx, val_idx, run_dir)
        if checkpoint is not None:
            restore_checkpoint(model, checkpoint)
            print(f"Resuming from {checkpoint} at step {start_step} of {total_steps}.", flush=True)
        elif options.init_from:
            start = init_checkpoint(options.init_from)
            load_weights(model.generator, os.path.join(start, GENERATOR_FILE))
            same = os.path.abspath(options.init_from) == os.path.abspath(start)
            named = options.init_from if same else f"{options.init_from} ({start})"
            print(f"The generator starts from {named}: {options.generator} at {options.image_size} pixels, its "
                  "weights; the discriminator starts afresh.", flush=True)
        if start_step >= total_steps:
            print(f"Nothing to do: the run has taken {start_step} of {total_steps} steps.")
            return RunResult(run_dir, start_step, {}, checkpoint=find_checkpoint(run_dir))

        train_ds, val_ds = _datasets(options, placement, source, train_idx, val_idx, start_step, pass_counts)
        state = RunState(step=start_step)
        initial_epoch = start_step // steps_per_epoch
        callbacks = _callbacks(
            options, placement, source, train_idx, val_idx, run_dir, state, steps_per_epoch,
            stop_at=min(total_steps, max_steps or total_steps),
        )
        sigint = signal.getsignal(signal.SIGINT)  # StopOnInterrupt replaces it while fit runs
        try:
            with quiet_grappler():  # the remapper's spurious error, off for the step only
                history = model.fit(
                    train_ds,
                    epochs=options.epochs,
                    initial_epoch=initial_epoch,
                    steps_per_epoch=steps_per_epoch,
                    validation_data=val_ds,
                    callbacks=callbacks + list(extra_callbacks),
                    verbose=verbose,
                    shuffle=False,  # the stream is shuffled by seed, resumably
                )
        finally:  # also when fit raises: the caller's Ctrl-C handling comes back
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, sigint)
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise disk_full(run_dir, error) from None
    if not placement.is_chief:
        shutil.rmtree(run_dir, ignore_errors=True)
    return RunResult(
        run_dir=run_dir,
        steps=int(model.steps_taken.numpy()),
        history=history.history,
        checkpoint=state.last_checkpoint,
        diverged=state.diverged,
        interrupted=state.interrupted,
        model=model,
    )


def disk_full(run_dir, error):
    """A one-line UserError for a run whose disk filled up: where, and what was kept."""
    from keras_colorizer.run.checkpoint import latest_checkpoint

    kept = latest_checkpoint(run_dir)
    kept = (f"the last complete checkpoint {kept} is kept; free some space and continue with --resume {run_dir}"
            if kept else "no checkpoint had been written yet")
    return UserError(f"{run_dir}: the disk is full ({error.strerror or error}); training stopped, {kept}")


def _run_folder(options, placement, run_dir):
    """The run's folder: the resumed one, a new one, or (workers other than the chief) a scratch folder."""
    if not placement.is_chief:
        # Other workers of a multi-worker run train in step with the chief;
        # only the chief writes the run folder.
        return tempfile.mkdtemp(prefix="keras_colorizer_worker_")
    return run_dir or new_run_dir(options.out, options.name)


def _announce(options, placement, source, train_idx, val_idx, run_dir):
    print(
        f"Data: {source.description}; {len(train_idx)} for training, {len(val_idx)} for validation. "
        f"Run folder: {run_dir}. Training on {placement.description}, {options.precision}.",
        flush=True,
    )
    hint = distribute.precision_hint(options.precision)
    if hint and placement.is_chief:
        print(hint, flush=True)


def _datasets(options, placement, source, train_idx, val_idx, start_step, pass_counts=None):
    """The endless training stream from `start_step` on, and the validation set (or None)."""
    train_ds = placement.prepare_dataset(
        data_lib.training_dataset(
            source, train_idx, options.image_size, options.batch_size, options.seed, options.jitter, start_step,
            pass_counts=pass_counts,
        )
    )
    if placement.replicas > 1 and len(val_idx) < options.batch_size:
        print(
            f"No validation scores: {len(val_idx)} validation photo(s) make no whole batch of {options.batch_size} "
            f"to split over {placement.replicas} replicas.",
            flush=True,
        )
        return train_ds, None
    if not len(val_idx):
        return train_ds, None
    val_ds = placement.prepare_dataset(
        data_lib.validation_dataset(
            source, val_idx, options.image_size, options.batch_size, whole_batches=placement.replicas > 1
        )
    )
    return train_ds, val_ds


def _callbacks(options, placement, source, train_idx, val_idx, run_dir, state, steps_per_epoch, stop_at):
    """Step counting, the stops (NaN, Ctrl-C, step limit), the L1 warm-up; on the chief, what writes the run folder."""
    callbacks = [
        CountSteps(state, steps_per_epoch, state.step // steps_per_epoch),
        StopOnNonFinite(state),
        StopOnInterrupt(state),
        StopAtStep(stop_at, state),
        WarmUpSchedule(options.pretrain_epochs),
    ]
    if not placement.is_chief:
        return callbacks
    # Validation photos first; training photos fill the grid where too few are held out.
    sample_idx = list(val_idx[: options.samples]) + list(train_idx[: max(0, options.samples - len(val_idx))])
    sample_names = [source.name(i) + ("" if i in val_idx else " (train)") for i in sample_idx]
    log_dir = os.path.join(run_dir, "logs")
    return callbacks + [
        HistoryCSV(os.path.join(run_dir, "history.csv"), first_epoch=state.step // steps_per_epoch),
        SaveCheckpoint(run_dir, options.to_dict(), state, steps_per_epoch),
        SampleGrid(
            data_lib.load_crops(source, sample_idx, options.image_size),
            source.encoding,
            os.path.join(run_dir, "samples"),
            log_dir=log_dir,
            names=sample_names,
            state=state,
        ),
        keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False, update_freq="epoch"),
    ]
