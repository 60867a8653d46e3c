"""Building blocks shared by the networks: initialisers, normalization layers, seeds."""

import contextlib

import keras
from keras import ops

NORMS = ("batch", "instance")


class LayerSeeds:
    """A distinct, reproducible seed for each layer of a network built from one seed.

    Keras initialisers given the same integer seed draw the same values, so
    every layer needs its own; `None` leaves them unseeded. Nothing global
    is touched.
    """

    def __init__(self, seed):
        self.seed = None if seed is None else int(seed)
        self._count = 0

    def next(self):
        if self.seed is None:
            return None
        self._count += 1
        return (self.seed * 7919 + self._count) % (2**31 - 1)


def check_int(name, value, minimum):
    """`value` as an int, or a ValueError naming the argument and the value received."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_choice(name, value, choices):
    """`value` if it is one of `choices`, or a ValueError naming the argument and the value received."""
    if value not in choices:
        raise ValueError(f"Unknown {name}. Expected one of: {', '.join(choices)}. Received: {name}={value!r}")
    return value


def weight_init(seed=None):
    """N(0, 0.02), the initialisation of the pix2pix paper."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02, seed=seed)


def norm_layer(norm, name, synchronized=False, seed=None):
    """Batch norm (PyTorch's momentum and epsilon) or instance norm.

    Instance norm is `GroupNormalization(groups=-1)`: one group per channel.
    `synchronized` batch norm takes its statistics over the global batch
    under a `tf.distribute` strategy, so N replicas train as one device would.
    """
    if norm == "batch":
        return keras.layers.BatchNormalization(
            momentum=0.9,
            epsilon=1e-5,
            gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02, seed=seed),
            synchronized=synchronized,
            name=name,
        )
    if norm == "instance":
        return _instance_norm_class(groups=-1, epsilon=1e-5, name=name)
    raise ValueError(f"Unknown norm {norm!r}. Expected one of: {', '.join(NORMS)}. Received: norm={norm!r}")


def uses_bias(norm):
    """Convs followed by batch norm need no bias (the norm's beta plays it)."""
    return norm != "batch"


@keras.saving.register_keras_serializable(package="keras_colorizer")
class QuantizableInstanceNorm(keras.layers.GroupNormalization):
    """Instance norm (`GroupNormalization(groups=-1)`) written with ops that all have int8 kernels.

    Keras computes the variance as E[x^2] - E[x]^2 and the shift as -mean,
    which convert to SQUARE and NEG: LiteRT has no int8 kernel for either.
    Here the variance is the mean of the centred values times themselves:
    MEAN, SUB, MUL, RSQRT and ADD only. Same weights, same result in float.
    The export builds its generator with it (`quantizable_instance_norm`).
    """

    def call(self, inputs):
        mean = ops.mean(inputs, axis=(1, 2), keepdims=True)
        centred = inputs - mean
        variance = ops.mean(centred * centred, axis=(1, 2), keepdims=True)
        return centred * (ops.rsqrt(variance + self.epsilon) * self.gamma) + self.beta


_instance_norm_class = keras.layers.GroupNormalization


@contextlib.contextmanager
def quantizable_instance_norm():
    """Inside, generators built with instance norm get `QuantizableInstanceNorm` (same weights, same output)."""
    global _instance_norm_class
    previous, _instance_norm_class = _instance_norm_class, QuantizableInstanceNorm
    try:
        yield
    finally:
        _instance_norm_class = previous


def is_instance_norm(layer):
    """A `GroupNormalization` with one group per channel."""
    return isinstance(layer, keras.layers.GroupNormalization) and layer.groups in (-1, layer.gamma.shape[0])


@keras.saving.register_keras_serializable(package="keras_colorizer")
class LightnessToRGB(keras.layers.Layer):
    """Network-range L (N, H, W, 1) -> the gray photo as RGB for an ImageNet encoder, x * scale + offset.

    x is the 0..255 sRGB value of the neutral gray of each pixel's lightness,
    repeated into three channels: what a gray photograph looks like to a
    network trained on ImageNet. Computed in float32 under any policy.
    """

    def __init__(self, scale=1.0, offset=0.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, l_norm):
        from keras_colorizer import color

        gray = color.lightness_to_gray(color.denormalize_l(ops.cast(l_norm, "float32")))
        return ops.repeat(gray * (255.0 * self.scale) + self.offset, 3, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
