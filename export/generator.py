"""The generator to export: rebuilt in float32 from a run or checkpoint."""

import keras
from keras import ops

from keras_colorizer.checkpoint import find_checkpoint, load_generator_weights, read_state
from keras_colorizer.config import TrainOptions
from keras_colorizer.models import build_generator


class QuantizableInstanceNorm(keras.layers.GroupNormalization):
    """Instance norm (`GroupNormalization(groups=-1)`) written with ops that all have int8 kernels.

    Keras computes the variance as E[x^2] - E[x]^2 and the shift as -mean,
    which convert to SQUARE and NEG: LiteRT has no int8 kernel for either,
    so they stayed float in an int8 file, between a dequantize and a
    quantize. Here the variance is the mean of the centred values times
    themselves: MEAN, SUB, MUL, RSQRT and ADD only. Same weights, same
    result in float.
    """

    def call(self, inputs):
        mean = ops.mean(inputs, axis=(1, 2), keepdims=True)
        centred = inputs - mean
        variance = ops.mean(centred * centred, axis=(1, 2), keepdims=True)
        return centred * (ops.rsqrt(variance + self.epsilon) * self.gamma) + self.beta


def _quantizable(layer):
    config = layer.get_config()
    if isinstance(layer, keras.layers.GroupNormalization) and config["groups"] in (-1, layer.gamma.shape[0]):
        return QuantizableInstanceNorm.from_config(config)
    return layer.__class__.from_config(config)


def load_float32_generator(path):
    """(generator, options, checkpoint folder) for a run or checkpoint, the generator in float32.

    The network is rebuilt under a float32 policy and the weights copied in,
    so a run trained with a mixed-precision policy exports too (a float16
    graph does not convert to builtin TFLite ops). Dropout is left out: it is
    off at inference anyway. Instance norm becomes `QuantizableInstanceNorm`,
    so an int8 file holds no float ops inside the network for it.
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
        load_generator_weights(generator, checkpoint)
        if options.norm == "instance":
            trained = generator
            generator = keras.models.clone_model(trained, clone_function=_quantizable)
            generator.set_weights(trained.get_weights())
    finally:
        keras.config.set_dtype_policy(previous)
    return generator, options, checkpoint
