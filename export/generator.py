"""The generator to export: a checkpoint's `generator.keras`, loaded in float32."""

import keras

from keras_colorizer.run.checkpoint import find_checkpoint, load_generator, read_state
from keras_colorizer.models.layers import is_instance_norm, quantizable_instance_norm


def as_quantizable(generator):
    """`generator` rebuilt, same class and config, with `QuantizableInstanceNorm` for instance norm, and its weights.

    Same float output; every op of its norm layers has an int8 kernel. A
    generator without instance norm is returned as it is.
    """
    if not any(is_instance_norm(layer) for layer in generator.layers):
        return generator
    with quantizable_instance_norm():
        copy = type(generator).from_config(generator.get_config())
    copy.set_weights(generator.get_weights())
    return copy


def load_float32_generator(path):
    """(generator, checkpoint folder, step) for a run or checkpoint, the generator in float32.

    The generator is loaded under a float32 policy, so a run trained with a
    mixed-precision policy exports too (a float16 graph does not convert to
    builtin TFLite ops). Instance norm becomes `QuantizableInstanceNorm`, so
    an int8 file holds no float ops inside the network for it.
    """
    checkpoint = find_checkpoint(path)
    step = read_state(checkpoint)["step"]
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        generator = as_quantizable(load_generator(checkpoint))
    finally:
        keras.config.set_dtype_policy(previous)
    return generator, checkpoint, step
