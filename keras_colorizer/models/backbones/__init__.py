"""Image encoders pretrained on ImageNet, by name, for the generators that start from one.

Each entry says how to build the encoder on an RGB input tensor, the input
range it expects (x in 0..255 is fed as x * scale + offset), and which
layers give its features at strides 2, 4, 8, 16 and 32. Taps are a layer's
output (`"out"`) or, where the feature is not a layer's output (ConvNeXt's
residual sums), the input of the next layer (`"in"`).

`efficientnet_lite0` is built in: its ImageNet weights come installed with
the package (`efficientnet_lite.py`). The others are `keras.applications`
models; Keras downloads their ImageNet weights on first use.
"""

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import keras

from keras_colorizer.errors import UserError


@dataclass(frozen=True)
class Backbone:
    build: Callable  # (input tensor, weights) -> a keras.Model on that tensor (no classifier head)
    scale: float
    offset: float
    taps: Dict[int, Tuple[str, str]]  # stride -> ("out" | "in", layer name), or ("output", None): the model's output
    float_stem_layers: Tuple[str, ...] = ()


def _lite0(tensor, weights):
    from keras_colorizer.models.backbones.efficientnet_lite import efficientnet_lite0_layers

    return keras.Model(tensor, efficientnet_lite0_layers(tensor), name="efficientnet_lite0")


def _application(constructor, **kwargs):
    def build(tensor, weights):
        return constructor(input_tensor=tensor, include_top=False, weights=weights, **kwargs)

    return build


def _applications():
    apps = keras.applications
    return {
        "mobilenet_v3_small": Backbone(
            _application(apps.MobileNetV3Small, include_preprocessing=True), 1.0, 0.0,
            {2: ("out", "conv_bn"), 4: ("out", "expanded_conv_project_bn"), 8: ("out", "expanded_conv_2_add"),
             16: ("out", "expanded_conv_7_add"), 32: ("out", "expanded_conv_10_add")},
        ),
        "mobilenet_v3_large": Backbone(
            _application(apps.MobileNetV3Large, include_preprocessing=True), 1.0, 0.0,
            {2: ("out", "expanded_conv_add"), 4: ("out", "expanded_conv_2_add"), 8: ("out", "expanded_conv_5_add"),
             16: ("out", "expanded_conv_11_add"), 32: ("out", "expanded_conv_14_add")},
        ),
        "efficientnet_v2_b0": Backbone(
            _application(apps.EfficientNetV2B0, include_preprocessing=True), 1.0, 0.0,
            {2: ("out", "block1a_project_activation"), 4: ("out", "block2b_add"), 8: ("out", "block3b_add"),
             16: ("out", "block5e_add"), 32: ("out", "block6h_add")},
        ),
        "resnet50_v2": Backbone(
            _application(apps.ResNet50V2), 1.0 / 127.5, -1.0,
            {2: ("out", "conv1_conv"), 4: ("out", "conv2_block3_preact_relu"), 8: ("out", "conv3_block4_preact_relu"),
             16: ("out", "conv4_block6_preact_relu"), 32: ("out", "post_relu")},
        ),
        "convnext_tiny": Backbone(
            _application(apps.ConvNeXtTiny, include_preprocessing=True), 1.0, 0.0,
            {4: ("in", "convnext_tiny_downsampling_block_0"), 8: ("in", "convnext_tiny_downsampling_block_1"),
             16: ("in", "convnext_tiny_downsampling_block_2"), 32: ("output", None)},
        ),
    }


def backbones():
    """Every encoder by name."""
    from keras_colorizer.models.backbones.efficientnet_lite import INPUT_MEAN, INPUT_STD

    lite0 = Backbone(
        _lite0, 1.0 / INPUT_STD, -INPUT_MEAN / INPUT_STD,
        {2: ("out", "block0_project_bn"), 4: ("out", "block2_add"), 8: ("out", "block4_add"),
         16: ("out", "block10_add"), 32: ("out", "block15_project_bn")},
        # Kept float in int8 files: 38.9 dB agreement on a trained model against 35.9 with all of it int8
        # (docs/benchmarks.md); the two layers are about 1% of the encoder's multiply-adds.
        float_stem_layers=("stem_", "block0_"),
    )
    return {"efficientnet_lite0": lite0, **_applications()}


BACKBONE_NAMES = ("efficientnet_lite0", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_v2_b0", "resnet50_v2", "convnext_tiny")


def get_backbone(name):
    table = backbones()
    if name not in table:
        raise ValueError(f"Unknown backbone. Expected one of: {', '.join(BACKBONE_NAMES)}. Received: backbone={name!r}")
    return table[name]


def pretrained_model(name, weights):
    """The backbone `name` alone, on a 3-channel input, with `weights` ("imagenet" or a weights file) loaded.

    A download that fails (offline) is a one-line `UserError` that says what to do.
    """
    backbone = get_backbone(name)
    tensor = keras.Input((None, None, 3))
    if name == "efficientnet_lite0":
        from keras_colorizer.models.backbones import efficientnet_lite

        model = efficientnet_lite.efficientnet_lite0_classifier(input_size=None)
        path = efficientnet_lite.imagenet_weights() if weights == "imagenet" else weights
        _load(model, path, name)
        return model
    if weights == "imagenet":
        try:
            return backbone.build(tensor, "imagenet")
        except Exception as error:  # noqa: BLE001 - urllib, OSError, ValueError...
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserError(
                f"{name}: could not get its ImageNet weights ({reason}); Keras downloads them on first use, so run "
                f"once with network access (they are cached in ~/.keras/models), or give a weights file, or "
                f"--generator efficientnet_lite0_unet, whose weights come installed"
            ) from None
    model = backbone.build(tensor, None)
    _load(model, weights, name)
    return model


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
        model = pretrained_model(name, weights)  # a missing file or download is its one-line error
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
