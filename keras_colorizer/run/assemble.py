"""From training options to a compiled `Pix2Pix`: networks, optimizers, schedule, precision.

Imports no TensorFlow, so the JAX backend can build and train the models on
a machine that has only JAX (the data pipeline is the part that needs
TensorFlow).
"""

import contextlib

import keras

from keras_colorizer.models import PatchGANDiscriminator, build_generator
from keras_colorizer.gan.optimizers import FusedAdam
from keras_colorizer.gan.losses import ExtraLosses
from keras_colorizer.gan.pix2pix import Pix2Pix
from keras_colorizer.gan.schedules import ConstantThenLinearDecay


def build_networks(options, synchronized_norm=False):
    """The generator and discriminator the options describe, seeded by `options.seed`."""
    generator = build_generator(options.generator, **options.generator_settings(), synchronized_norm=synchronized_norm)
    discriminator = PatchGANDiscriminator(**options.discriminator_settings(), synchronized_norm=synchronized_norm)
    return generator, discriminator


def freeze_encoder(generator):
    """Make a pretrained encoder's layers non-trainable (`--encoder-lr-scale 0`), so no gradient is computed for them.

    A step of the default generator at 224 takes 14% less than with the
    encoder trainable at a zero learning rate (docs/quality.md). A generator
    without a pretrained encoder is left as it is. The setting is saved with
    the generator (`EncoderUNetGenerator.encoder_trainable`).
    """
    if hasattr(generator, "encoder_trainable"):
        generator.encoder_trainable = False


@contextlib.contextmanager
def quiet_grappler():
    """Grappler's remapper off while the block runs (training), as it was set after.

    It tries to fuse Conv2D + BiasAdd + LeakyRelu in the discriminator's
    gradient and fails ("remapper failed: ... LeakyReluGrad", logged on
    every run); without it the step took the same time on CPU
    (docs/benchmarks.md). TensorFlow's setting is per process, and Grappler
    reads it when a function first runs: the training step is traced and
    run inside the block, and a program's own functions outside it keep the
    remapper.
    """
    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options().get("remapping")
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": True if before is None else before})


def resolve_jit_compile(jit_compile):
    """`--jit-compile`, or the backend's default: JAX needs XLA; with TensorFlow it measured slower on CPU."""
    if jit_compile is not None:
        return bool(jit_compile)
    return keras.backend.backend() == "jax"


def paper_adam(name, lr, beta1, total_steps, decay_steps, loss_scaled=False, **slow):
    """Adam with the paper's schedule: `lr` constant, then linear to 0 over the last `decay_steps`.

    `slow` are `FusedAdam`'s slow_variables, slow_lr_scale and slow_start_step.
    """
    schedule = ConstantThenLinearDecay(lr, total_steps - decay_steps, decay_steps)
    optimizer = FusedAdam(schedule, beta_1=beta1, beta_2=0.999, name=name, **slow)
    if loss_scaled:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_loss_scale")
    return optimizer


def build_model(options, encoding, steps_per_epoch, synchronized_norm=False, ab_weights=None):
    """A compiled `Pix2Pix` with the paper's optimizers and learning-rate schedule.

    `ab_weights`: the colour rebalancing's per-bin weights (`--rebalance`), or None.

    Build it under the strategy's scope and after `distribute.set_precision`.
    Under `mixed_float16` each optimizer is wrapped in a `LossScaleOptimizer`.
    """
    generator, discriminator = build_networks(options, synchronized_norm=synchronized_norm)
    model = Pix2Pix(generator, discriminator, encoding=encoding, seed=options.seed, name="pix2pix")
    adam = dict(
        lr=options.lr,
        beta1=options.beta1,
        total_steps=options.epochs * steps_per_epoch,
        decay_steps=options.lr_decay_epochs * steps_per_epoch,
        loss_scaled=options.precision == "mixed_float16",
    )
    if options.encoder_lr_scale == 0:
        freeze_encoder(generator)
    encoder = [v.path for v in getattr(generator, "encoder_variables", [])]
    slow = dict(slow_variables=encoder, slow_lr_scale=options.encoder_lr_scale)
    model.compile(
        g_optimizer=paper_adam("g_adam", **adam, **slow),
        d_optimizer=paper_adam("d_adam", **adam),
        gan_mode=options.gan_mode,
        lambda_l1=options.lambda_l1,
        d_noise=options.d_noise,
        d_batch=options.d_batch,
        extra_losses=ExtraLosses(ab_weights=ab_weights, lambda_class=options.lambda_class,
                                 lambda_temporal=options.lambda_temporal, temporal_shift=options.temporal_shift()),
        jit_compile=resolve_jit_compile(options.jit_compile),
        steps_per_execution=options.steps_per_execution,
    )
    model.build_optimizers()
    return model
