"""The 70x70 PatchGAN discriminator on concat(L, ab)."""

import keras

from keras_colorizer.models.layers import norm_layer, uses_bias, weight_init


def build_discriminator(n_layers=3, ndf=64, norm="batch", input_size=None, name="discriminator", synchronized_norm=False):
    """Build the pix2pix PatchGAN discriminator as a functional model.

    With `n_layers=3` each output logit sees a 70x70 patch of the input. The
    input is the pair (L, ab); the output is one logit per patch,
    (N, H/8 - 2, W/8 - 2, 1) for 3 layers, in float32.

    Args:
        n_layers: stride-2 conv layers after the first (3 gives 70x70 patches).
        ndf: filters of the first layer, doubling to at most 8 * ndf.
        norm: `"batch"` or `"instance"`.
        input_size: optional fixed (height, width).
        synchronized_norm: batch norm over the global batch under a
            `tf.distribute` strategy.

    Returns:
        A `keras.Model` taking `[l, ab]` and returning patch logits.
    """
    if n_layers < 1:
        raise ValueError(f"n_layers must be at least 1. Received: n_layers={n_layers}")
    height, width = (None, None) if input_size is None else input_size
    l_in = keras.Input(shape=(height, width, 1), name="l")
    ab_in = keras.Input(shape=(height, width, 2), name="ab")
    x = keras.layers.Concatenate(name="pair")([l_in, ab_in])

    def conv(x, filters, stride, n, use_bias=True):
        x = keras.layers.ZeroPadding2D(1, name=f"conv{n}_pad")(x)
        return keras.layers.Conv2D(
            filters, 4, strides=stride, padding="valid", use_bias=use_bias,
            kernel_initializer=weight_init(), name=f"conv{n}",
        )(x)

    x = conv(x, ndf, 2, 1)
    x = keras.layers.LeakyReLU(0.2, name="conv1_lrelu")(x)
    for n in range(1, n_layers + 1):
        stride = 2 if n < n_layers else 1
        x = conv(x, ndf * min(2**n, 8), stride, n + 1, use_bias=uses_bias(norm))
        x = norm_layer(norm, name=f"conv{n + 1}_norm", synchronized=synchronized_norm)(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv{n + 1}_lrelu")(x)
    x = conv(x, 1, 1, n_layers + 2)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model([l_in, ab_in], logits, name=name)
