"""Generator presets: the one table of U-Net depths and the image-size rule."""

GENERATOR_PRESETS = {
    # name: number of down-sampling levels (the input side must be a multiple of 2**levels)
    "unet_256": 8,
    "unet_128": 7,
}


def preset_levels(preset):
    """Number of U-Net levels of a preset name."""
    if preset not in GENERATOR_PRESETS:
        raise ValueError(
            f"Unknown generator preset {preset!r}. Expected one of: {', '.join(sorted(GENERATOR_PRESETS))}."
        )
    return GENERATOR_PRESETS[preset]


def size_multiple(levels):
    """The generator's input height and width must be multiples of this."""
    return 2**levels


def check_image_size(size, levels):
    """Raise a ValueError unless `size` suits a U-Net of `levels` levels."""
    multiple = size_multiple(levels)
    if size <= 0 or size % multiple:
        raise ValueError(
            f"Image size {size} does not suit a {levels}-level U-Net: it must be a positive "
            f"multiple of {multiple} (2**levels). Received: image_size={size}"
        )
