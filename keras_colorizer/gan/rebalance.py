"""Colour rebalancing (Zhang et al. 2016): weight the L1 loss up on rare, saturated colours.

Most pixels of most photos are near gray, so a loss that treats every pixel
alike learns that gray-brown is a safe answer: the sepia look. Zhang et al.
counted how often each quantized ab colour occurs in the training photos and
weighted each pixel's loss by the inverse of its colour's (smoothed)
frequency, mixed with a uniform share so that the rarest colours are not
weighted without bound:

    w(q) proportional to 1 / ((1 - mix) * p(q) + mix / Q),   sum over q of p(q) w(q) = 1

where p is the smoothed share of the training pixels in bin q and Q the
number of bins the training photos occupy. The mean weight over the
(smoothed) training pixels is 1, so `--lambda-l1` keeps its meaning. Here the weights multiply
the generator's L1 per pixel (the paper weights a classification loss over
the same bins).
"""

import numpy as np
from keras import ops

from keras_colorizer import color
from keras_colorizer.models.ab_classes import BIN_WIDTH, BINS_PER_AXIS, bin_index  # noqa: F401 - the bins weighted

PRIOR_SHORT_SIDE = 64  # photos are counted at this size: colour is smooth, and it keeps the count cheap
PRIOR_MAX_IMAGES = 2000  # a larger set (the Kaggle one holds 25,000) is sampled evenly: about a minute on 2 cores


def ab_histogram(ab_norm):
    """Counts of each ab bin over every pixel of network-range ab (..., 2), as float64 (BINS_PER_AXIS**2,)."""
    flat = np.asarray(ops.convert_to_numpy(bin_index(ab_norm))).ravel()
    return np.bincount(flat, minlength=BINS_PER_AXIS**2).astype("float64")


def _smooth(grid, sigma_bins):
    """A separable Gaussian blur of a (B, B) grid, zero outside."""
    radius = max(1, int(np.ceil(3 * sigma_bins)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_bins) ** 2)
    taps /= taps.sum()
    rows = np.apply_along_axis(lambda v: np.convolve(v, taps, mode="same"), 0, grid)
    return np.apply_along_axis(lambda v: np.convolve(v, taps, mode="same"), 1, rows)


def rebalancing_weights(counts, mix=0.5, sigma=5.0):
    """Per-bin loss weights from ab bin counts, float32 (BINS_PER_AXIS**2,).

    Args:
        counts: pixels per ab bin (`ab_histogram`), not all zero.
        mix: the uniform share (the paper's lambda, 0.5), in (0, 1]; 1 gives
            every occupied bin weight 1.
        sigma: the Gaussian smoothing of the distribution, in a, b units
            (the paper's 5).

    Bins no training pixel fell in get the largest weight of the occupied
    ones (a crop's interpolation can make a colour the photos lack).
    """
    counts = np.asarray(counts, "float64")
    if counts.shape != (BINS_PER_AXIS**2,) or counts.sum() <= 0 or (counts < 0).any():
        raise ValueError(f"counts must be {BINS_PER_AXIS**2} non-negative bin counts, not all zero. Received shape {counts.shape}")
    if not 0.0 < mix <= 1.0:
        raise ValueError(f"mix must be in (0, 1]. Received: mix={mix}")
    occupied = counts > 0
    prior = _smooth((counts / counts.sum()).reshape(BINS_PER_AXIS, BINS_PER_AXIS), sigma / BIN_WIDTH).ravel()
    prior = np.where(occupied, prior, 0.0)
    prior /= prior.sum()
    weights = 1.0 / ((1.0 - mix) * prior + mix / occupied.sum())
    weights /= (prior * weights).sum()
    weights[~occupied] = weights[occupied].max()
    return weights.astype("float32")


def weights_from_source(source, indices, mix=0.5, sigma=5.0, max_images=PRIOR_MAX_IMAGES):
    """Rebalancing weights from the ab colours of a data source's images `indices`.

    Each image is counted at a 64-pixel short side; of more than `max_images`
    images, `max_images` evenly spaced ones (the same ones every time).
    """
    indices = np.asarray(indices)
    if len(indices) > max_images:
        indices = indices[np.linspace(0, len(indices) - 1, max_images).round().astype(int)]
    counts = np.zeros(BINS_PER_AXIS**2)
    for index in indices:
        image = source.load(index, short_side=PRIOR_SHORT_SIDE)
        if source.encoding == "lab8":
            _, ab = color.lab8_to_network(image[..., :1], image[..., 1:])
        else:
            _, ab = color.rgb_to_network(image)
        counts += ab_histogram(ab)
    return rebalancing_weights(counts, mix=mix, sigma=sigma)


def weighted_l1_loss(ab_fake, ab_real, weights):
    """Mean of |ab_fake - ab_real| with each pixel weighted by its true colour's bin weight, in float32."""
    pixel_weights = ops.take(ops.convert_to_tensor(weights, "float32"), bin_index(ab_real))
    error = ops.abs(ops.cast(ab_fake, "float32") - ops.cast(ab_real, "float32"))
    return ops.mean(error * pixel_weights[..., None])
