"""Callbacks of a training run: checkpoints, sample grids, NaN guard, Ctrl-C, step limit."""

import csv
import io
import math
import os
import signal

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_colorizer import color
from keras_colorizer.run.checkpoint import save_checkpoint
from keras_colorizer.atomic import write_text
from keras_colorizer.crashpoints import reached
from keras_colorizer.plots import draw_grid


class RunState:
    """What the callbacks tell each other and the caller: the step, and how the run ended."""

    def __init__(self, step=0):
        self.step = int(step)  # training steps taken, counting those of earlier sessions of the run
        self.diverged = None  # message when a loss went NaN / inf
        self.interrupted = False
        self.last_checkpoint = None


class CountSteps(keras.callbacks.Callback):
    """Keep `state.step` current from the batch numbers `fit` reports.

    The model's variables are not read: with JAX they live outside the model
    during an epoch, and with `steps_per_execution` one call covers several
    steps (Keras reports the last one's number).
    """

    def __init__(self, state, steps_per_epoch, initial_epoch):
        super().__init__()
        self.state = state
        self.steps_per_epoch = int(steps_per_epoch)
        self.first = None  # the step this session of the run started at
        self.initial_epoch = int(initial_epoch)
        self.epoch = self.initial_epoch

    def on_train_begin(self, logs=None):
        self.first = self.state.step

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.state.step = self.first + (self.epoch - self.initial_epoch) * self.steps_per_epoch + int(batch) + 1


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop at the first NaN or infinite loss, before anything is saved."""

    def __init__(self, state):
        super().__init__()
        self.state = state

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                self.state.diverged = f"loss {name} became {float(value)} at step {self.state.step}"
                self.model.stop_training = True
                return


class AbortRequested(KeyboardInterrupt):
    """A second Ctrl-C: stop now, without saving (the last complete checkpoint stays)."""


def _abort(signum, frame):
    raise AbortRequested()


class StopOnInterrupt(keras.callbacks.Callback):
    """The first Ctrl-C finishes the current step, saves and stops; a second one aborts at once.

    The abort raises `AbortRequested` wherever the process is, the save
    included; a save cut short leaves only a temporary folder, which the
    next save removes.
    """

    def __init__(self, state):
        super().__init__()
        self.state = state
        self._previous = None

    def _handle(self, signum, frame):
        self.state.interrupted = True
        signal.signal(signal.SIGINT, _abort)
        print("\nCtrl-C: finishing this step, saving a checkpoint and stopping (press again to abort).", flush=True)

    def on_train_begin(self, logs=None):
        self._previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._handle)

    def on_train_batch_end(self, batch, logs=None):
        if self.state.interrupted:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)


class WarmUpSchedule(keras.callbacks.Callback):
    """Train the generator on L1 alone for the first `epochs` epochs, then add the GAN loss.

    The switch depends on the epoch number only, so a resumed run switches
    at the same point.
    """

    def __init__(self, epochs):
        super().__init__()
        self.epochs = int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.gan_weight.assign(0.0 if epoch < self.epochs else 1.0)


class StopAtStep(keras.callbacks.Callback):
    """Stop once the run has taken `max_steps` steps (`CountSteps` must come first)."""

    def __init__(self, max_steps, state):
        super().__init__()
        self.max_steps = int(max_steps)
        self.state = state

    def on_train_batch_end(self, batch, logs=None):
        if self.state.step >= self.max_steps:
            self.model.stop_training = True


class HistoryCSV(keras.callbacks.Callback):
    """`history.csv`: one row per finished epoch, no gaps and no duplicates, whenever the process dies.

    The row is written before the epoch's checkpoint (this callback must
    come before `SaveCheckpoint`), and the whole file is rewritten under a
    temporary name and renamed. A run resumed from the checkpoint of epoch
    E keeps the rows of epochs before E and drops any written after it: a
    kill between the row and the checkpoint leaves a row for an epoch that
    is trained again, and it is replaced.
    """

    def __init__(self, path, first_epoch=0):
        super().__init__()
        self.path = path
        self.first_epoch = int(first_epoch)
        self.fields, self.rows = None, []

    def on_train_begin(self, logs=None):
        if self.first_epoch and os.path.isfile(self.path):
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f)
                self.fields = reader.fieldnames
                self.rows = [row for row in reader if int(row["epoch"]) < self.first_epoch]
        else:
            self.rows = []

    def on_epoch_end(self, epoch, logs=None):
        values = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        if self.fields is None:
            self.fields = ["epoch"] + sorted(k for k in values if k != "epoch")
        self.rows = [row for row in self.rows if int(row["epoch"]) < epoch] + [values]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(self.path, out.getvalue())
        reached("history-written")


class SaveCheckpoint(keras.callbacks.Callback):
    """Save a checkpoint at every epoch end, and when the run stops early, unless it diverged."""

    def __init__(self, run_dir, options, state, steps_per_epoch):
        super().__init__()
        self.run_dir = run_dir
        self.options = options
        self.state = state
        self.steps_per_epoch = steps_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.state.diverged:
            return
        epochs_done = int(self.model.steps_taken.numpy()) // self.steps_per_epoch
        self.state.last_checkpoint = save_checkpoint(self.model, self.run_dir, epochs_done, self.options)


class SampleGrid(keras.callbacks.Callback):
    """Colorize fixed validation photos at each epoch end: a PNG grid and a TensorBoard image."""

    def __init__(self, images, encoding, folder, log_dir=None, names=None, state=None):
        super().__init__()
        self.state = state
        self.images = images  # uint8 (N, S, S, 3) in `encoding`
        self.encoding = encoding
        self.folder = folder
        self.names = names
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "samples")) if log_dir else None
        os.makedirs(folder, exist_ok=True)

    def rows(self):
        if self.encoding == "lab8":
            l_norm, ab_norm = color.lab8_to_network(self.images[..., :1], self.images[..., 1:])
        else:
            l_norm, ab_norm = color.rgb_to_network(self.images)
        ab_fake = self.model.generator(l_norm, training=False)
        to_uint8 = lambda rgb: np.round(ops.convert_to_numpy(rgb) * 255.0).astype(np.uint8)  # noqa: E731
        gray = to_uint8(color.network_to_rgb(l_norm, ops.zeros_like(ab_norm)))
        fake = to_uint8(color.network_to_rgb(l_norm, ops.cast(ab_fake, "float32")))
        real = to_uint8(color.network_to_rgb(l_norm, ab_norm))
        return gray, fake, real

    def on_epoch_end(self, epoch, logs=None):
        if self.state is not None and self.state.diverged:
            return
        gray, fake, real = self.rows()
        step = int(self.model.steps_taken.numpy())
        path = os.path.join(self.folder, f"epoch-{epoch + 1:04d}.png")
        draw_grid(zip(gray, fake, real), path, title=f"epoch {epoch + 1}, step {step}", labels=self.names)
        if self.writer is not None:
            with self.writer.as_default():
                tf.summary.image("samples", np.concatenate([gray, fake, real], axis=2), step=step, max_outputs=len(gray))
            self.writer.flush()
