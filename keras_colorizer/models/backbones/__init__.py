"""Image encoders pretrained on ImageNet, by name, for the generators that start from one.

Each entry says how to build the encoder on an RGB input tensor, the input
range it expects (x in 0..255 is fed as x * scale + offset), and which
layers' outputs are its features at strides 2, 4, 8, 16 and 32, and its
classifier's last features (the 1280 that ImageNet's logits are read from).

One is built in: `efficientnet_lite0`, whose ImageNet weights come installed
with the package (`efficientnet_lite.py`). Five `keras.applications`
encoders were offered until 2026-12 with no measurement of any of them, and
were removed (issue 36); a saved generator that names one is refused with
that reason. A new encoder is one more entry here, with its taps.
"""

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import keras

from keras_colorizer.errors import UserError


@dataclass(frozen=True)
class Backbone:
    build: Callable  # (input tensor, head) -> a keras.Model on that tensor (no classifier, no weights)
    pretrained: Callable  # (weights: "imagenet" or a file's path) -> the model the weights load into, loaded
    scale: float
    offset: float
    taps: Dict[int, str]  # stride -> the layer whose output is the feature at that stride
    head: str  # the layer whose output is the classifier's last features, before pooling (built with head=True)
    float_stem_layers: Tuple[str, ...] = ()


def _lite0(tensor, head=False):
    from keras_colorizer.models.backbones.efficientnet_lite import efficientnet_lite0_layers

    return keras.Model(tensor, efficientnet_lite0_layers(tensor, include_head=head), name="efficientnet_lite0")


def _lite0_pretrained(weights):
    from keras_colorizer.models.backbones import efficientnet_lite

    model = efficientnet_lite.efficientnet_lite0_classifier(input_size=None)
    _load(model, efficientnet_lite.imagenet_weights() if weights == "imagenet" else weights, "efficientnet_lite0")
    return model


def backbones():
    """Every encoder by name."""
    from keras_colorizer.models.backbones.efficientnet_lite import INPUT_MEAN, INPUT_STD

    lite0 = Backbone(
        _lite0, _lite0_pretrained, 1.0 / INPUT_STD, -INPUT_MEAN / INPUT_STD,
        {2: "block0_project_bn", 4: "block2_add", 8: "block4_add", 16: "block10_add", 32: "block15_project_bn"},
        "head_relu",
        # Kept float in int8 files: 38.9 dB agreement on a trained model against 35.9 with all of it int8
        # (docs/benchmarks.md); the two layers are about 1% of the encoder's multiply-adds.
        float_stem_layers=("stem_", "block0_"),
    )
    return {"efficientnet_lite0": lite0}


BACKBONE_NAMES = ("efficientnet_lite0",)
# Removed (issue 36): offered with no measurement of their quality, and the only encoders that downloaded.
RETIRED_BACKBONES = ("mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_v2_b0", "resnet50_v2", "convnext_tiny")


def get_backbone(name):
    if name in RETIRED_BACKBONES:
        raise ValueError(
            f"The {name} encoder was removed (the keras.applications encoders were never measured for quality); "
            f"use efficientnet_lite0 (a model made with it loads only in keras-colorizer 0.1.0). Received: backbone={name!r}"
        )
    table = backbones()
    if name not in table:
        raise ValueError(f"Unknown backbone. Expected one of: {', '.join(BACKBONE_NAMES)}. Received: backbone={name!r}")
    return table[name]


def pretrained_model(name, weights):
    """The backbone `name` alone with `weights` ("imagenet": the installed file, or a weights file) loaded.

    A missing or unreadable weights file is a one-line `UserError`.
    """
    return get_backbone(name).pretrained(weights)


# (backbone, weights, the file's identity) -> its layers' weights; see `pretrained_layer_weights`.
_LAYER_WEIGHTS = {}


def pretrained_layer_weights(name, weights):
    """`pretrained_model(name, weights)`'s weights, layer by layer: (model name, [(layer name, [arrays]), ...]),
    the layers that hold weights in their order.

    Kept for the life of the process (19 MB for Lite0), so that a second generator started from the same
    weights does not build and load the whole backbone again (3.3 s for Lite0 on a 2-core CPU: its
    classifier is built to read the converted file). A weights file that changes on disk is read again.
    """
    import os

    key = (name, weights)
    if weights != "imagenet" and os.path.isfile(weights):
        status = os.stat(weights)
        key += (os.path.abspath(weights), status.st_mtime_ns, status.st_size)
    if key not in _LAYER_WEIGHTS:
        model = pretrained_model(name, weights)  # a missing or unreadable file is its one-line error
        _LAYER_WEIGHTS[key] = (model.name, [(layer.name, layer.get_weights()) for layer in model.layers if layer.weights])
    return _LAYER_WEIGHTS[key]


def _load(model, path, name):
    import os

    if not os.path.isfile(path):
        raise UserError(f"{path}: no such weights file for the {name} encoder")
    try:
        model.load_weights(path)
    except Exception as error:  # noqa: BLE001
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: does not hold {name} weights ({reason})") from None
