"""The generator to export: a checkpoint's `generator.keras`, loaded in float32."""

import keras

from keras_colorizer.checkpoint import find_checkpoint, load_generator, read_state
from keras_colorizer.models.layers import QuantizableInstanceNorm, is_instance_norm


def _quantizable(layer):
    if is_instance_norm(layer):
        return QuantizableInstanceNorm.from_config(layer.get_config())
    return layer.__class__.from_config(layer.get_config())


def as_quantizable(generator):
    """`generator` with instance norm rewritten as `QuantizableInstanceNorm` (same weights, same float output).

    The copy is a functional model; it keeps the generator's `image_size`
    and `float_stem_layers`.
    """
    if not any(is_instance_norm(layer) for layer in generator.layers):
        return generator
    copy = keras.models.clone_model(generator, clone_function=_quantizable)
    copy.set_weights(generator.get_weights())
    copy.image_size = generator.image_size
    copy.float_stem_layers = tuple(generator.float_stem_layers)
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
