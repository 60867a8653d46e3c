"""The pix2pix U-Net generator: L (N, H, W, 1) in [-1, 1] -> ab (N, H, W, 2) in [-1, 1]."""

import keras

from keras_colorizer.models.layers import norm_layer, uses_bias, weight_init
from keras_colorizer.config import UPSAMPLE_MODES
from keras_colorizer.models.presets import preset_levels


def _channels(level, ngf):
    """Feature maps of the encoder at `level` (0 = outermost)."""
    return ngf * min(2**level, 8)


def build_generator(
    preset="unet_256",
    levels=None,
    ngf=64,
    norm="batch",
    dropout=0.5,
    upsample="transpose",
    input_size=None,
    name="generator",
    synchronized_norm=False,
):
    """Build the pix2pix U-Net generator (Isola et al. 2017) as a functional model.

    Encoder level i: LeakyReLU(0.2) -> Conv 4x4/2 -> norm (no activation before
    the first conv, no norm on the first and the innermost). Decoder level i:
    ReLU -> ConvTranspose 4x4/2 -> norm -> dropout (the three decoder blocks
    just outside the innermost), concatenated with the encoder's features; the
    outermost decoder ends in tanh. Weights are initialised N(0, 0.02).

    Args:
        preset: `"unet_256"` (8 levels) or `"unet_128"` (7 levels).
        levels: number of down-sampling levels; overrides `preset` (small
            models for tests use 3 or 4).
        ngf: filters of the outermost level, doubling to at most 8 * ngf.
        norm: `"batch"` or `"instance"`.
        dropout: dropout rate of the three innermost decoder blocks (0 = off).
        upsample: `"transpose"` (4x4 transposed convolution, as in the
            paper) or `"resize"` (nearest-neighbour 2x resize, then a 3x3
            convolution: no checkerboard artefacts, Odena et al. 2016).
        input_size: optional fixed (height, width); `None` leaves the model
            fully convolutional (any size that is a multiple of 2**levels).
        synchronized_norm: batch norm over the global batch under a
            `tf.distribute` strategy (training only; weights are the same).

    Returns:
        A `keras.Model` mapping L (N, H, W, 1) to ab (N, H, W, 2).

    Example:
    >>> g = build_generator(levels=3, ngf=8)
    >>> g(np.zeros((1, 64, 64, 1))).shape
    (1, 64, 64, 2)
    """
    levels = preset_levels(preset) if levels is None else int(levels)
    if levels < 2:
        raise ValueError(f"A U-Net needs at least 2 levels. Received: levels={levels}")
    if ngf < 1:
        raise ValueError(f"ngf must be a positive number of filters. Received: ngf={ngf}")
    height, width = (None, None) if input_size is None else input_size
    bias = uses_bias(norm)
    if upsample not in UPSAMPLE_MODES:
        raise ValueError(f"Unknown upsample mode {upsample!r}. Expected one of: {', '.join(UPSAMPLE_MODES)}.")
    conv_args = dict(kernel_size=4, strides=2, padding="same", kernel_initializer=weight_init())

    def up_conv(x, filters, use_bias, n):
        if upsample == "transpose":
            return keras.layers.Conv2DTranspose(filters, use_bias=use_bias, name=f"up{n}_conv", **conv_args)(x)
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up{n}_resize")(x)
        return keras.layers.Conv2D(
            filters, 3, padding="same", use_bias=use_bias, kernel_initializer=weight_init(), name=f"up{n}_conv"
        )(x)

    inputs = keras.Input(shape=(height, width, 1), name="l")
    x = inputs
    skips = []
    for level in range(levels):
        n = level + 1
        innermost = level == levels - 1
        if level > 0:
            x = keras.layers.LeakyReLU(0.2, name=f"down{n}_lrelu")(x)
        x = keras.layers.Conv2D(_channels(level, ngf), use_bias=bias, name=f"down{n}_conv", **conv_args)(x)
        if 0 < level < levels - 1:
            x = norm_layer(norm, name=f"down{n}_norm", synchronized=synchronized_norm)(x)
        if not innermost:
            skips.append(x)

    for level in reversed(range(levels)):
        n = level + 1
        x = keras.layers.ReLU(name=f"up{n}_relu")(x)
        if level == 0:
            x = up_conv(x, 2, True, n)
            x = keras.layers.Activation("tanh", name="ab", dtype="float32")(x)
            break
        x = up_conv(x, _channels(level - 1, ngf), bias, n)
        x = norm_layer(norm, name=f"up{n}_norm", synchronized=synchronized_norm)(x)
        if dropout and levels - 4 <= level <= levels - 2:
            x = keras.layers.Dropout(dropout, name=f"up{n}_dropout")(x)
        x = keras.layers.Concatenate(name=f"up{n}_skip")([skips[level - 1], x])
    return keras.Model(inputs, x, name=name)
