"""The generator (U-Net) and discriminator (PatchGAN) of pix2pix."""

from keras_colorizer.models.patchgan import build_discriminator
from keras_colorizer.models.presets import GENERATOR_PRESETS, check_image_size, preset_levels, size_multiple
from keras_colorizer.models.unet import build_generator

__all__ = [
    "GENERATOR_PRESETS",
    "build_discriminator",
    "build_generator",
    "check_image_size",
    "preset_levels",
    "size_multiple",
]
