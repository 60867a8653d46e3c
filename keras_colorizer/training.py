"""A training run from options to `runs/<name>/`: data, models, callbacks, `model.fit`."""

import dataclasses
import math
import os
import time
from dataclasses import dataclass

import keras

from keras_colorizer import data as data_lib
from keras_colorizer.callbacks import (
    RunState,
    SampleGrid,
    SaveCheckpoint,
    StopAtStep,
    StopOnInterrupt,
    StopOnNonFinite,
    WarmUpSchedule,
)
from keras_colorizer.checkpoint import find_checkpoint, read_state, restore_checkpoint
from keras_colorizer.config import TrainOptions
from keras_colorizer.models import build_discriminator, build_generator
from keras_colorizer.pix2pix import Pix2Pix
from keras_colorizer.schedules import ConstantThenLinearDecay


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


def build_models(options):
    """The generator and discriminator the options describe."""
    generator = build_generator(
        levels=options.generator_levels,
        ngf=options.ngf,
        norm=options.norm,
        dropout=options.dropout,
        upsample=options.upsample,
    )
    discriminator = build_discriminator(n_layers=options.n_layers, ndf=options.ndf, norm=options.norm)
    return generator, discriminator


def quiet_grappler():
    """Turn off Grappler's remapper, which logs a spurious error on every run.

    It tries to fuse Conv2D + BiasAdd + LeakyRelu in the discriminator's
    gradient and fails ("remapper failed: ... LeakyReluGrad"). Without it the
    unet_256 training step took the same time here (729 ms against 734 ms).
    """
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"remapping": False})


def build_model(options, encoding, steps_per_epoch):
    """A compiled `Pix2Pix` with the paper's optimizers and learning-rate schedule."""
    quiet_grappler()
    keras.utils.set_random_seed(options.seed)
    generator, discriminator = build_models(options)
    model = Pix2Pix(generator, discriminator, encoding=encoding, name="pix2pix")
    decay_steps = options.lr_decay_epochs * steps_per_epoch
    constant_steps = options.epochs * steps_per_epoch - decay_steps

    def adam(name):
        schedule = ConstantThenLinearDecay(options.lr, constant_steps, decay_steps)
        return keras.optimizers.Adam(schedule, beta_1=options.beta1, beta_2=0.999, name=name)

    model.compile(
        g_optimizer=adam("g_adam"),
        d_optimizer=adam("d_adam"),
        gan_mode=options.gan_mode,
        lambda_l1=options.lambda_l1,
        jit_compile=False,
    )
    model.build_optimizers()
    return model


def new_run_dir(out, name=None):
    """A fresh `out/<name>` (default name: date and time), never an existing folder."""
    base = name or time.strftime("%Y-%m-%d_%H-%M-%S")
    path, n = os.path.join(out, base), 1
    while os.path.exists(path):
        if name:
            raise ValueError(f"{path}: a run with this name exists; pick another --name or continue it with --resume {path}")
        n += 1
        path = os.path.join(out, f"{base}_{n}")
    os.makedirs(path)
    return path


def resolve_steps_per_epoch(options, n_train):
    if options.steps_per_epoch:
        return options.steps_per_epoch
    return max(1, math.ceil(n_train / options.batch_size))


def train(options=None, resume=None, max_steps=None, verbose="auto", extra_callbacks=()):
    """Train pix2pix as `options` say, or continue the run `resume` names.

    Args:
        options: `TrainOptions` (ignored fields are read from the run when
            resuming, except `epochs`, which may extend a run).
        resume: a run folder or checkpoint to continue exactly.
        max_steps: stop after this many steps in all (a checkpoint is saved).
        verbose: passed to `model.fit` (progress bar by default).

    Returns:
        A `RunResult`.
    """
    start_step = 0
    if resume is not None:
        checkpoint = find_checkpoint(resume)
        state = read_state(checkpoint)
        saved = TrainOptions.from_dict(state["options"])
        if options is not None and options.epochs != saved.epochs:
            saved = dataclasses.replace(saved, epochs=options.epochs)
        options = saved
        start_step = state["step"]
        run_dir = os.path.dirname(os.path.dirname(os.path.abspath(checkpoint)))
    options = (options or TrainOptions()).validate()

    source = data_lib.open_source(
        options.data,
        cache_short_side=data_lib.load_size(options.image_size, options.jitter),
        cache_budget_bytes=CACHE_BUDGET_BYTES,
    )
    train_idx, val_idx = data_lib.split_indices(len(source), options.val_split, options.seed)
    steps_per_epoch = resolve_steps_per_epoch(options, len(train_idx))
    total_steps = options.epochs * steps_per_epoch
    if resume is None:
        run_dir = new_run_dir(options.out, options.name)
    options.save(os.path.join(run_dir, "options.json"))
    print(
        f"Data: {source.description}; {len(train_idx)} for training, {len(val_idx)} for validation. "
        f"Run folder: {run_dir}",
        flush=True,
    )

    model = build_model(options, source.encoding, steps_per_epoch)
    if resume is not None:
        restore_checkpoint(model, checkpoint)
        print(f"Resuming from {checkpoint} at step {start_step} of {total_steps}.", flush=True)
    if start_step >= total_steps:
        print(f"Nothing to do: the run has taken {start_step} of {total_steps} steps.")
        return RunResult(run_dir, start_step, {}, checkpoint=find_checkpoint(run_dir))

    train_ds = data_lib.training_dataset(
        source, train_idx, options.image_size, options.batch_size, options.seed, options.jitter, start_step
    )
    val_ds = None
    if len(val_idx):
        val_ds = data_lib.validation_dataset(source, val_idx, options.image_size, options.batch_size)
    # Validation photos first; training photos fill the grid where too few are held out.
    sample_idx = list(val_idx[: options.samples]) + list(train_idx[: max(0, options.samples - len(val_idx))])
    sample_names = [source.name(i) + ("" if i in val_idx else " (train)") for i in sample_idx]

    state = RunState()
    log_dir = os.path.join(run_dir, "logs")
    callbacks = [
        StopOnNonFinite(state),
        StopOnInterrupt(state),
        StopAtStep(min(total_steps, max_steps or total_steps)),
        WarmUpSchedule(options.pretrain_epochs),
        SaveCheckpoint(run_dir, options.to_dict(), state, steps_per_epoch),
        SampleGrid(
            data_lib.load_crops(source, sample_idx, options.image_size),
            source.encoding,
            os.path.join(run_dir, "samples"),
            log_dir=log_dir,
            names=sample_names,
            state=state,
        ),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=resume is not None),
        keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False, update_freq="epoch"),
        *extra_callbacks,
    ]
    history = model.fit(
        train_ds,
        epochs=options.epochs,
        initial_epoch=start_step // steps_per_epoch,
        steps_per_epoch=steps_per_epoch,
        validation_data=val_ds,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # the stream is shuffled by seed, resumably
    )
    steps = int(model.g_optimizer.iterations.numpy())
    return RunResult(
        run_dir=run_dir,
        steps=steps,
        history=history.history,
        checkpoint=state.last_checkpoint,
        diverged=state.diverged,
        interrupted=state.interrupted,
    )
