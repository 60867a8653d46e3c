"""The pix2pix losses, in `keras.ops` so every backend's training step shares them, and the research terms' settings."""

from dataclasses import dataclass
from typing import Optional

import keras
import numpy as np
from keras import ops

GAN_MODES = ("vanilla", "lsgan")


@dataclass(frozen=True)
class ExtraLosses:
    """Research terms beside pix2pix's adversarial + L1 loss (`Pix2Pix.compile(extra_losses=...)`); all off by default.

    Args:
        ab_weights: one weight per ab bin (`gan.rebalance`, Zhang et al.):
            each pixel's L1 (or a classifying generator's cross-entropy) is
            weighted by how rare its true colour is.
        lambda_class: weight of a classifying generator's (`ab_head="classes"`)
            cross-entropy over ab bins (`g_class`).
        lambda_temporal: weight of the consistency term for video: the
            generator also colours a crop of each batch, `temporal_shift`
            pixels smaller at a random offset (a camera that moved), and the
            L1 between that and the same pixels of the whole image's colour is
            added (`g_temporal`).
        temporal_shift: the crop's margin; it must suit the generator's size multiple.
    """

    ab_weights: Optional[np.ndarray] = None
    lambda_class: float = 10.0
    lambda_temporal: float = 0.0
    temporal_shift: int = 32


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

