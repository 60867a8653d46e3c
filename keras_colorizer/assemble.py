"""From training options to a compiled `Pix2Pix`: networks, optimizers, schedule, precision.

Imports no TensorFlow, so the JAX backend can build and train the models on
a machine that has only JAX (the data pipeline is the part that needs
TensorFlow).
"""

import keras

from keras_colorizer.models import build_discriminator, build_generator
from keras_colorizer.optimizers import FusedAdam
from keras_colorizer.pix2pix import Pix2Pix
from keras_colorizer.schedules import ConstantThenLinearDecay


def build_models(options, synchronized_norm=False):
    """The generator and discriminator the options describe."""
    generator = build_generator(
        levels=options.generator_levels,
        ngf=options.ngf,
        norm=options.norm,
        dropout=options.dropout,
        upsample=options.upsample,
        synchronized_norm=synchronized_norm,
    )
    discriminator = build_discriminator(
        n_layers=options.n_layers, ndf=options.ndf, norm=options.norm, synchronized_norm=synchronized_norm
    )
    return generator, discriminator


def quiet_grappler():
    """Turn off Grappler's remapper, which logs a spurious error on every run.

    It tries to fuse Conv2D + BiasAdd + LeakyRelu in the discriminator's
    gradient and fails ("remapper failed: ... LeakyReluGrad"). Without it the
    unet_256 training step took the same time here (729 ms against 734 ms).
    """
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"remapping": False})


def resolve_jit_compile(options):
    """`--jit-compile`, or the backend's default: JAX needs XLA; with TensorFlow it measured slower on CPU."""
    if options.jit_compile is not None:
        return bool(options.jit_compile)
    return keras.backend.backend() == "jax"


def build_model(options, encoding, steps_per_epoch, synchronized_norm=False):
    """A compiled `Pix2Pix` with the paper's optimizers and learning-rate schedule.

    Build it under the strategy's scope and after `distribute.set_precision`.
    Under `mixed_float16` each optimizer is wrapped in a `LossScaleOptimizer`.
    """
    quiet_grappler()
    keras.utils.set_random_seed(options.seed)
    generator, discriminator = build_models(options, synchronized_norm=synchronized_norm)
    model = Pix2Pix(generator, discriminator, encoding=encoding, image_size=options.image_size, name="pix2pix")
    decay_steps = options.lr_decay_epochs * steps_per_epoch
    constant_steps = options.epochs * steps_per_epoch - decay_steps

    def adam(name):
        schedule = ConstantThenLinearDecay(options.lr, constant_steps, decay_steps)
        optimizer = FusedAdam(schedule, beta_1=options.beta1, beta_2=0.999, name=name)
        if options.precision == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_loss_scale")
        return optimizer

    model.compile(
        g_optimizer=adam("g_adam"),
        d_optimizer=adam("d_adam"),
        gan_mode=options.gan_mode,
        lambda_l1=options.lambda_l1,
        jit_compile=resolve_jit_compile(options),
        steps_per_execution=options.steps_per_execution,
    )
    model.build_optimizers()
    return model
