"""The pix2pix losses, in `keras.ops` so every backend's training step shares them."""

import keras
from keras import ops

GAN_MODES = ("vanilla", "lsgan")


def gan_loss(logits, target_is_real, mode):
    """Mean GAN loss of discriminator logits against all-real or all-fake targets."""
    logits = ops.cast(logits, "float32")
    target = ops.ones_like(logits) if target_is_real else ops.zeros_like(logits)
    if mode == "vanilla":
        return ops.mean(keras.losses.binary_crossentropy(target, logits, from_logits=True))
    if mode == "lsgan":
        return ops.mean(ops.square(logits - target))
    raise ValueError(f"Unknown GAN loss. Expected one of: {', '.join(GAN_MODES)}. Received: mode={mode!r}")


def l1_loss(ab_fake, ab_real):
    """Mean absolute error of the predicted ab, computed in float32."""
    return ops.mean(ops.abs(ops.cast(ab_fake, "float32") - ab_real))

