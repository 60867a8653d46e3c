"""The 70x70 PatchGAN discriminator on concat(L, ab)."""

import keras

from keras_colorizer.models.layers import NORMS, LayerSeeds, check_choice, check_int, norm_layer, uses_bias, weight_init


@keras.saving.register_keras_serializable(package="keras_colorizer")
class PatchGANDiscriminator(keras.Model):
    """The pix2pix PatchGAN discriminator: one real/fake logit per patch of an (L, ab) pair.

    With `n_layers=3` each output logit sees a 70x70 patch of the input;
    the output is (N, H/8 - 2, W/8 - 2, 1) logits in float32.

    Args:
        n_layers: stride-2 conv layers after the first (3 gives 70x70 patches).
        ndf: filters of the first layer, doubling to at most 8 * ndf.
        norm: `"batch"` or `"instance"`.
        input_size: optional fixed (height, width).
        seed: seed of the initial weights.
        synchronized_norm: batch norm over the global batch under a
            `tf.distribute` strategy (a training setting, not saved).

    Example:
    >>> discriminator = PatchGANDiscriminator(n_layers=3, ndf=64)   # 2,765,633 parameters
    >>> discriminator([np.zeros((1, 256, 256, 1)), np.zeros((1, 256, 256, 2))]).shape
    (1, 30, 30, 1)
    """

    def __init__(self, n_layers=3, ndf=64, norm="batch", input_size=None, seed=None, synchronized_norm=False,
                 name="discriminator", **kwargs):
        n_layers, ndf = check_int("n_layers", n_layers, 1), check_int("ndf", ndf, 1)
        check_choice("norm", norm, NORMS)
        seeds = LayerSeeds(seed)
        height, width = (None, None) if input_size is None else tuple(input_size)
        l_in = keras.Input(shape=(height, width, 1), name="l")
        ab_in = keras.Input(shape=(height, width, 2), name="ab")
        x = keras.layers.Concatenate(name="pair")([l_in, ab_in])

        def conv(x, filters, stride, n, use_bias=True):
            x = keras.layers.ZeroPadding2D(1, name=f"conv{n}_pad")(x)
            return keras.layers.Conv2D(
                filters, 4, strides=stride, padding="valid", use_bias=use_bias,
                kernel_initializer=weight_init(seeds.next()), name=f"conv{n}",
            )(x)

        x = conv(x, ndf, 2, 1)
        x = keras.layers.LeakyReLU(0.2, name="conv1_lrelu")(x)
        for n in range(1, n_layers + 1):
            stride = 2 if n < n_layers else 1
            x = conv(x, ndf * min(2**n, 8), stride, n + 1, use_bias=uses_bias(norm))
            x = norm_layer(norm, name=f"conv{n + 1}_norm", synchronized=synchronized_norm, seed=seeds.next())(x)
            x = keras.layers.LeakyReLU(0.2, name=f"conv{n + 1}_lrelu")(x)
        x = conv(x, 1, 1, n_layers + 2)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
        super().__init__([l_in, ab_in], logits, name=name, **kwargs)
        self.n_layers, self.ndf, self.norm = n_layers, ndf, norm
        self.input_size = None if input_size is None else tuple(input_size)
        self.seed = seed
        self.synchronized_norm = bool(synchronized_norm)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "n_layers": self.n_layers,
            "ndf": self.ndf,
            "norm": self.norm,
            "input_size": self.input_size,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
