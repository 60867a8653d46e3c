"""The generator to export: rebuilt in float32 from a run or checkpoint."""

import keras

from keras_colorizer.checkpoint import find_checkpoint, load_generator_weights, read_state
from keras_colorizer.config import TrainOptions
from keras_colorizer.models import build_generator


def load_float32_generator(path):
    """(generator, options, checkpoint folder) for a run or checkpoint, the generator in float32.

    The network is rebuilt under a float32 policy and the weights copied in,
    so a run trained with a mixed-precision policy exports too (a float16
    graph does not convert to builtin TFLite ops). Dropout is left out: it is
    off at inference anyway.
    """
    checkpoint = find_checkpoint(path)
    options = TrainOptions.from_dict(read_state(checkpoint)["options"])
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        generator = build_generator(
            levels=options.generator_levels, ngf=options.ngf, norm=options.norm, dropout=options.dropout,
            upsample=options.upsample,
        )
    finally:
        keras.config.set_dtype_policy(previous)
    load_generator_weights(generator, checkpoint)
    return generator, options, checkpoint
