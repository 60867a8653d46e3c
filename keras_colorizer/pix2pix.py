"""Pix2Pix: the conditional GAN that trains the generator, as a `keras.Model`.

`model.fit` drives it. Each step takes a batch of uint8 images (sRGB, or
OpenCV 8-bit Lab for the Kaggle arrays), converts them to (L, ab) on the
device, then

1. updates the discriminator on real pairs (L, ab) against generated pairs
   (L, G(L)), its loss halved as in the paper;
2. updates the generator on the adversarial loss against the updated
   discriminator plus lambda_l1 * |G(L) - ab|.
"""

import keras
import tensorflow as tf
from keras import ops

from keras_colorizer import color
from keras_colorizer.config import GAN_MODES
ENCODINGS = ("rgb", "lab8")


def gan_loss(logits, target_is_real, mode):
    """Mean GAN loss of discriminator logits against all-real or all-fake targets."""
    logits = ops.cast(logits, "float32")
    target = ops.ones_like(logits) if target_is_real else ops.zeros_like(logits)
    if mode == "vanilla":
        return ops.mean(keras.losses.binary_crossentropy(target, logits, from_logits=True))
    if mode == "lsgan":
        return ops.mean(ops.square(logits - target))
    raise ValueError(f"Unknown GAN loss {mode!r}. Expected one of: {', '.join(GAN_MODES)}.")


def psnr(rgb_true, rgb_pred):
    """Per-image PSNR in dB of RGB images in [0, 1], shape (N,)."""
    mse = ops.mean(ops.square(rgb_true - rgb_pred), axis=(1, 2, 3))
    return 10.0 * ops.log10(1.0 / ops.maximum(mse, 1e-10))


class Pix2Pix(keras.Model):
    """The generator and the discriminator, trained together.

    Args:
        generator: L (N, H, W, 1) -> ab (N, H, W, 2), both in [-1, 1].
        discriminator: [L, ab] -> patch logits.
        encoding: what the uint8 training batches hold: `"rgb"` (sRGB) or
            `"lab8"` (OpenCV 8-bit Lab). Batches may also be given as a
            float pair (L, ab) in network range.

    Example:
    >>> model = Pix2Pix(build_generator(levels=3, ngf=8), build_discriminator(ndf=8))
    >>> model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...               d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    >>> model.fit(dataset, epochs=1, steps_per_epoch=10)
    """

    def __init__(self, generator, discriminator, encoding="rgb", **kwargs):
        super().__init__(**kwargs)
        if encoding not in ENCODINGS:
            raise ValueError(f"Unknown image encoding {encoding!r}. Expected one of: {', '.join(ENCODINGS)}.")
        self.generator = generator
        self.discriminator = discriminator
        self.encoding = encoding
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in ("d_loss", "d_real", "d_fake", "g_gan", "g_l1")
        }
        self.val_trackers = {name: keras.metrics.Mean(name=name) for name in ("l1", "psnr")}
        # Weight of the adversarial term in the generator's loss: 0 during an
        # L1-only warm-up (`WarmUpSchedule` sets it per epoch), 1 after.
        self.gan_weight = keras.Variable(1.0, trainable=False, dtype="float32", name="gan_weight")

    def compile(self, g_optimizer, d_optimizer, gan_mode="vanilla", lambda_l1=100.0, **kwargs):
        """Set the two optimizers and the loss; other keyword arguments go to `Model.compile`."""
        if gan_mode not in GAN_MODES:
            raise ValueError(f"Unknown GAN loss {gan_mode!r}. Expected one of: {', '.join(GAN_MODES)}.")
        if lambda_l1 < 0:
            raise ValueError(f"lambda_l1 must be >= 0. Received: lambda_l1={lambda_l1}")
        super().compile(optimizer=None, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.gan_mode = gan_mode
        self.lambda_l1 = float(lambda_l1)

    def build_optimizers(self):
        """Create both optimizers' variables (needed before restoring their state)."""
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values()) + list(self.val_trackers.values())

    def call(self, l_norm, training=False):
        return self.generator(l_norm, training=training)

    def to_lab(self, batch):
        """A training batch (uint8 images, or a float (L, ab) pair) -> (L, ab) in network range."""
        if isinstance(batch, (tuple, list)):
            l_norm, ab_norm = batch[0], batch[1]
            return ops.cast(l_norm, "float32"), ops.cast(ab_norm, "float32")
        if self.encoding == "lab8":
            return color.lab8_to_network(batch[..., 0:1], batch[..., 1:3])
        return color.rgb_to_network(batch)

    def train_step(self, batch):
        l_norm, ab_real = self.to_lab(batch)
        with tf.GradientTape() as g_tape:
            ab_fake = self.generator(l_norm, training=True)
            with g_tape.stop_recording(), tf.GradientTape() as d_tape:
                real_logits = self.discriminator([l_norm, ab_real], training=True)
                fake_logits = self.discriminator([l_norm, ops.stop_gradient(ab_fake)], training=True)
                d_real = gan_loss(real_logits, True, self.gan_mode)
                d_fake = gan_loss(fake_logits, False, self.gan_mode)
                d_loss = 0.5 * (d_real + d_fake)
            d_vars = self.discriminator.trainable_variables
            self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))

            fooled_logits = self.discriminator([l_norm, ab_fake], training=True)
            g_gan = gan_loss(fooled_logits, True, self.gan_mode)
            g_l1 = ops.mean(ops.abs(ops.cast(ab_fake, "float32") - ab_real))
            g_loss = self.gan_weight * g_gan + self.lambda_l1 * g_l1
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))

        for name, value in (("d_loss", d_loss), ("d_real", d_real), ("d_fake", d_fake), ("g_gan", g_gan), ("g_l1", g_l1)):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, batch):
        l_norm, ab_real = self.to_lab(batch)
        ab_fake = ops.cast(self.generator(l_norm, training=False), "float32")
        rgb_real = color.network_to_rgb(l_norm, ab_real)
        rgb_fake = color.network_to_rgb(l_norm, ab_fake)
        self.val_trackers["l1"].update_state(ops.mean(ops.abs(ab_fake - ab_real), axis=(1, 2, 3)))
        self.val_trackers["psnr"].update_state(psnr(rgb_real, rgb_fake))
        return {name: tracker.result() for name, tracker in self.val_trackers.items()}
