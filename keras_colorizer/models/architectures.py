"""Named generator architectures: a family (a registered model class) and the arguments that define it.

This is the one table `--generator` reads. It maps a name to an
architecture, not to weights: models that start from pretrained weights get
them from their family (e.g. an ImageNet encoder).
"""

import inspect

from keras_colorizer.models.backbones import RETIRED_BACKBONES
from keras_colorizer.models.encoder_unet import EncoderUNetGenerator
from keras_colorizer.models.unet import UNetGenerator

GENERATORS = {
    # name: (family, fixed arguments)
    "unet_256": (UNetGenerator, {"levels": 8}),
    "unet_128": (UNetGenerator, {"levels": 7}),
    "efficientnet_lite0_unet": (EncoderUNetGenerator, {"backbone": "efficientnet_lite0"}),
}
# Removed in issue 36 with their keras.applications encoders: offered, never measured for quality.
RETIRED_GENERATORS = tuple(f"{backbone}_unet" for backbone in RETIRED_BACKBONES)


def check_not_retired(name, what="generator"):
    """A ValueError saying why, if `name` is one of the removed generators."""
    if name in RETIRED_GENERATORS:
        raise ValueError(
            f"{what} {name} was removed (its keras.applications encoder was never measured for quality); "
            f"efficientnet_lite0_unet is the pretrained one"
        )


def _lookup(name):
    check_not_retired(name)
    if name not in GENERATORS:
        raise ValueError(f"Unknown generator. Expected one of: {', '.join(sorted(GENERATORS))}. Received: generator={name!r}")
    return GENERATORS[name]


def family_arguments(family):
    """The constructor arguments a family takes (its architecture settings)."""
    return [p for p in inspect.signature(family.__init__).parameters if p not in ("self", "kwargs")]


def generator_config(name, **settings):
    """(family, constructor arguments) of the architecture `name` with `settings` applied.

    Settings override the fixed arguments (`levels=3` makes a small U-Net);
    settings the family does not take are left out, so one set of
    command-line options serves every family.
    """
    family, fixed = _lookup(name)
    accepted = family_arguments(family)
    arguments = {k: v for k, v in settings.items() if k in accepted}
    return family, {**fixed, **arguments}


def build_generator(name="unet_256", **settings):
    """The generator the architecture `name` describes, with `settings` (e.g. `ngf=32`) applied.

    Example:
    >>> build_generator("unet_256", ngf=64)   # 54,409,858 parameters
    """
    family, arguments = generator_config(name, **settings)
    return family(**arguments)


def size_multiple(name, **settings):
    """What the input side of the architecture must be a multiple of (no model is built)."""
    family, arguments = generator_config(name, **settings)
    return family.size_multiple_for(arguments)


def default_image_size(name, **settings):
    """The training side of the architecture `name` when none is given (`Generator.default_image_size_for`)."""
    family, arguments = generator_config(name, **settings)
    return family.default_image_size_for(arguments)


def check_image_size(size, name, **settings):
    """Raise a ValueError unless `size` suits the architecture (`Generator.check_size_for`: the one check)."""
    family, arguments = generator_config(name, **settings)
    family.check_size_for(arguments, size, f"the {name} generator")
