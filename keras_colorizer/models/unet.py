"""The pix2pix U-Net generator: L (N, H, W, 1) in [-1, 1] -> ab (N, H, W, 2) in [-1, 1]."""

import keras

from keras_colorizer.models.generator import Generator
from keras_colorizer.models.layers import NORMS, LayerSeeds, check_choice, check_int, norm_layer, uses_bias, weight_init

UPSAMPLE_MODES = ("transpose", "resize")


def _channels(level, ngf):
    """Feature maps of the encoder at `level` (0 = outermost)."""
    return ngf * min(2**level, 8)


@keras.saving.register_keras_serializable(package="keras_colorizer")
class UNetGenerator(Generator):
    """The pix2pix U-Net generator (Isola et al. 2017).

    Encoder level i: LeakyReLU(0.2) -> Conv 4x4/2 -> norm (no activation
    before the first conv, no norm on the first and the innermost). Decoder
    level i: ReLU -> ConvTranspose 4x4/2 -> norm -> dropout (the three
    decoder blocks just outside the innermost), concatenated with the
    encoder's features; the outermost decoder ends in tanh. Weights start
    N(0, 0.02). Every layer is named (`down3_conv`, `up2_norm`).

    Args:
        levels: down-sampling levels (8 for 256x256 crops, 7 for 128x128;
            small models for tests use 3 or 4). Inputs must be multiples
            of 2**levels.
        ngf: filters of the outermost level, doubling to at most 8 * ngf.
        norm: `"batch"` or `"instance"`.
        dropout: dropout rate of the three innermost decoder blocks (0 = off).
        upsample: `"transpose"` (4x4 transposed convolution, as in the
            paper) or `"resize"` (nearest-neighbour 2x resize, then a 3x3
            convolution: no checkerboard artefacts, Odena et al. 2016).
        image_size: the side it trains at (photos are resized to it).
        input_size: optional fixed (height, width) of the input; `None`
            leaves the model fully convolutional.
        seed: seed of the initial weights and the dropout masks.
        synchronized_norm: batch norm over the global batch under a
            `tf.distribute` strategy. A training setting, not saved in the
            config: a loaded generator has plain batch norm, same weights.

    Example:
    >>> generator = UNetGenerator(levels=3, ngf=8)
    >>> generator(np.zeros((1, 64, 64, 1))).shape
    (1, 64, 64, 2)
    >>> generator.save("generator.keras")   # keras.saving.load_model rebuilds it
    """

    float_stem_layers = ("down1_conv", "down2_lrelu")

    def __init__(
        self,
        levels=8,
        ngf=64,
        norm="batch",
        dropout=0.5,
        upsample="transpose",
        image_size=None,
        input_size=None,
        seed=None,
        synchronized_norm=False,
        name="generator",
        **kwargs,
    ):
        levels, ngf = check_int("levels", levels, 2), check_int("ngf", ngf, 1)
        check_choice("norm", norm, NORMS)
        check_choice("upsample", upsample, UPSAMPLE_MODES)
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
        seeds = LayerSeeds(seed)
        height, width = (None, None) if input_size is None else tuple(input_size)
        bias = uses_bias(norm)

        def down_conv(x, filters, n):
            return keras.layers.Conv2D(
                filters, 4, strides=2, padding="same", use_bias=bias,
                kernel_initializer=weight_init(seeds.next()), name=f"down{n}_conv",
            )(x)

        def up_conv(x, filters, use_bias, n):
            if upsample == "transpose":
                return keras.layers.Conv2DTranspose(
                    filters, 4, strides=2, padding="same", use_bias=use_bias,
                    kernel_initializer=weight_init(seeds.next()), name=f"up{n}_conv",
                )(x)
            x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up{n}_resize")(x)
            return keras.layers.Conv2D(
                filters, 3, padding="same", use_bias=use_bias,
                kernel_initializer=weight_init(seeds.next()), name=f"up{n}_conv",
            )(x)

        def normalize(x, name):
            return norm_layer(norm, name, synchronized=synchronized_norm, seed=seeds.next())(x)

        inputs = keras.Input(shape=(height, width, 1), name="l")
        x = inputs
        skips = []
        for level in range(levels):
            n = level + 1
            if level > 0:
                x = keras.layers.LeakyReLU(0.2, name=f"down{n}_lrelu")(x)
            x = down_conv(x, _channels(level, ngf), n)
            if 0 < level < levels - 1:
                x = normalize(x, f"down{n}_norm")
            if level < levels - 1:
                skips.append(x)

        for level in reversed(range(levels)):
            n = level + 1
            x = keras.layers.ReLU(name=f"up{n}_relu")(x)
            if level == 0:
                x = up_conv(x, 2, True, n)
                x = keras.layers.Activation("tanh", name="ab", dtype="float32")(x)
                break
            x = up_conv(x, _channels(level - 1, ngf), bias, n)
            x = normalize(x, f"up{n}_norm")
            if dropout and levels - 4 <= level <= levels - 2:
                x = keras.layers.Dropout(dropout, seed=seeds.next(), name=f"up{n}_dropout")(x)
            x = keras.layers.Concatenate(name=f"up{n}_skip")([skips[level - 1], x])

        super().__init__(inputs, x, image_size=image_size, name=name, **kwargs)
        self.levels, self.ngf, self.norm, self.dropout, self.upsample = levels, ngf, norm, float(dropout), upsample
        self.input_size = None if input_size is None else tuple(input_size)
        self.seed = seed
        self.synchronized_norm = bool(synchronized_norm)

    @classmethod
    def size_multiple_for(cls, config):
        return 2 ** int(config.get("levels", 8))

    def get_config(self):
        return {
            **super().get_config(),
            "levels": self.levels,
            "ngf": self.ngf,
            "norm": self.norm,
            "dropout": self.dropout,
            "upsample": self.upsample,
            "input_size": self.input_size,
            "seed": self.seed,
        }
