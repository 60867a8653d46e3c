"""Colour as classification (Zhang et al. 2016): a distribution over quantized ab bins, not one ab value.

A regression loss (L1) on a pixel that could be red or blue learns the mean
of the two: gray-brown. Zhang et al. instead predict, per pixel, a
probability for each ab bin (the 10-unit grid of `rebalance`) and train it
with cross-entropy against a soft encoding of the true colour (a Gaussian
of sigma 5 a,b units over the bins around it), each pixel weighted by its
colour's rarity (`rebalance`). The colour shown is the annealed mean: the
mean of the distribution sharpened by a temperature T (0.38 in the paper),
between the mean (T = 1, safe but dull) and the mode (T -> 0, vivid but
patchy).

Here the bins are the full 22 x 22 grid over a, b in [-110, 110]; bins no
sRGB colour reaches simply learn low probabilities.
"""

import keras
import numpy as np
from keras import ops

from keras_colorizer import color

BIN_WIDTH = 10.0  # in a, b units, as in the paper
BINS_PER_AXIS = int(round(2 * color.AB_SCALE / BIN_WIDTH))  # 22: a and b in [-110, 110]
CLASSES = BINS_PER_AXIS**2


def bin_index(ab_norm):
    """Network-range ab (..., 2) -> the flat index of each pixel's ab bin (...,), int32."""
    scaled = (ops.cast(ab_norm, "float32") + 1.0) * (0.5 * BINS_PER_AXIS)
    q = ops.clip(ops.cast(ops.floor(scaled), "int32"), 0, BINS_PER_AXIS - 1)
    return q[..., 0] * BINS_PER_AXIS + q[..., 1]
TEMPERATURE = 0.38  # the paper's annealed-mean temperature
SOFT_SIGMA = 5.0  # a, b units: the soft encoding's Gaussian (the paper's)


def bin_centres():
    """Network-range ab at the centre of each bin, float32 (CLASSES, 2), in `bin_index` order."""
    axis = (np.arange(BINS_PER_AXIS, dtype="float32") + 0.5) / (0.5 * BINS_PER_AXIS) - 1.0
    a, b = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=-1).astype("float32")


def soft_targets(ab_norm):
    """Network-range ab (..., 2) -> the soft encoding (..., CLASSES): a Gaussian over the bin centres, summing to 1."""
    sigma = SOFT_SIGMA / (BIN_WIDTH * 0.5 * BINS_PER_AXIS)  # in network units (1 = 110 a,b units)
    centres = ops.convert_to_tensor(bin_centres())
    ab = ops.cast(ab_norm, "float32")[..., None, :]
    distance2 = ops.sum(ops.square(ab - centres), axis=-1)
    # Taken relative to the nearest bin, so the weights never all underflow to 0.
    logits = -(distance2 - ops.min(distance2, axis=-1, keepdims=True)) / (2.0 * sigma**2)
    return ops.softmax(logits, axis=-1)


def class_loss(logits, ab_real, weights=None):
    """Cross-entropy of per-pixel bin logits against the soft-encoded true ab, in float32.

    Args:
        logits: (N, h, w, CLASSES), at a stride s of the photo.
        ab_real: network-range ab (N, H, W, 2) at full size; averaged over
            s x s blocks to the logits' size.
        weights: per-bin rebalancing weights (`rebalance.rebalancing_weights`)
            or None; each pixel's loss is weighted by its true colour's bin.
    """
    logits = ops.cast(logits, "float32")
    ab_real = ops.cast(ab_real, "float32")
    stride = ab_real.shape[1] // logits.shape[1]
    if stride > 1:
        ab_real = ops.average_pool(ab_real, stride, strides=stride, padding="valid")
    cross_entropy = -ops.sum(soft_targets(ab_real) * ops.log_softmax(logits, axis=-1), axis=-1)
    if weights is not None:
        cross_entropy = cross_entropy * ops.take(ops.convert_to_tensor(weights, "float32"), bin_index(ab_real))
    return ops.mean(cross_entropy)


@keras.saving.register_keras_serializable(package="keras_colorizer")
class AnnealedMean(keras.layers.Layer):
    """Bin logits (N, H, W, CLASSES) -> network-range ab (N, H, W, 2): the mean of softmax(logits / T) over the bin centres.

    A softmax and one matrix product: builtin ops in TFLite. Computed in
    float32 under any policy.
    """

    def __init__(self, temperature=TEMPERATURE, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0. Received: temperature={temperature}")
        self.temperature = float(temperature)

    def call(self, logits):
        probabilities = ops.softmax(ops.cast(logits, "float32") * (1.0 / self.temperature), axis=-1)
        return ops.matmul(probabilities, ops.convert_to_tensor(bin_centres()))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def at_temperature(generator, temperature):
    """A copy of a classifying generator (the same weights) showing its colour at another annealed-mean temperature.

    No retraining: only the last step, softmax(logits / T) over the bin
    centres, changes. Raises ValueError for a generator that regresses ab.
    """
    config = generator.get_config()
    if config.get("ab_head") != "classes":
        raise ValueError(f"only a --ab-head classes generator has a temperature; this one regresses ab "
                         f"(ab_head {config.get('ab_head')!r}). Received: temperature={temperature}")
    tempered = type(generator).from_config({**config, "temperature": float(temperature)})
    tempered.set_weights(generator.get_weights())
    return tempered
