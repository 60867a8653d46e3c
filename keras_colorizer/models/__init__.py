"""The networks: generator families (registered Keras classes) and the PatchGAN discriminator."""

from keras_colorizer.models.architectures import GENERATORS, build_generator, check_image_size, default_image_size, size_multiple
from keras_colorizer.models.encoder_unet import EncoderUNetGenerator
from keras_colorizer.models.generator import Generator
from keras_colorizer.models.layers import QuantizableInstanceNorm
from keras_colorizer.models.patchgan import PatchGANDiscriminator
from keras_colorizer.models.unet import UNetGenerator

__all__ = [
    "EncoderUNetGenerator",
    "GENERATORS",
    "Generator",
    "PatchGANDiscriminator",
    "QuantizableInstanceNorm",
    "UNetGenerator",
    "build_generator",
    "check_image_size",
    "default_image_size",
    "size_multiple",
]
