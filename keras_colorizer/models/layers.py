"""Building blocks shared by the generator and the discriminator."""

import keras

from keras_colorizer.config import NORMS


def weight_init():
    """N(0, 0.02), the initialisation of the pix2pix paper."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def norm_layer(norm, name, synchronized=False):
    """Batch norm (PyTorch's momentum and epsilon) or instance norm.

    Instance norm is `GroupNormalization(groups=-1)`: one group per channel.
    `synchronized` batch norm takes its statistics over the global batch
    under a `tf.distribute` strategy, so N replicas train as one device would.
    """
    if norm == "batch":
        return keras.layers.BatchNormalization(
            momentum=0.9,
            epsilon=1e-5,
            gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02),
            synchronized=synchronized,
            name=name,
        )
    if norm == "instance":
        return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)
    raise ValueError(f"Unknown norm {norm!r}. Expected one of: {', '.join(NORMS)}.")


def uses_bias(norm):
    """Convs followed by batch norm need no bias (the norm's beta plays it)."""
    return norm != "batch"
