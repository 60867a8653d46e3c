"""Colorize photos of any size with a trained generator.

The network sees the photo's L resized to its training size (optionally
shrunk further first, to the level of detail it was trained on); the a, b it
predicts are resized back to the photo's size and joined with the photo's own
full-resolution L, so detail and brightness come from the original and only
colour comes from the model. Colours outside sRGB lose chroma, not lightness.
"""

import dataclasses

import numpy as np
from keras import ops

from keras_colorizer import color, signatures
from keras_colorizer.run.checkpoint import find_checkpoint, load_generator
from keras_colorizer.data.images import read_image
from keras_colorizer.errors import UserError, first_line


def _as_unit_float(image):
    """uint8 / uint16 / float [0, 1] -> float32 in [0, 1]."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    if image.dtype.kind == "f":
        return np.clip(image, 0.0, 1.0).astype(np.float32)
    raise UserError(f"Expected a uint8, uint16 or float image. Received: dtype={image.dtype}")


def _as_uint8(channel):
    """A uint8 / uint16 / float [0, 1] channel -> uint8 0..255 (an alpha of 1.0 stays opaque)."""
    return np.round(_as_unit_float(channel) * 255.0).astype(np.uint8)


def split_channels(image):
    """An image (H, W), (H, W, 1|2|3|4) -> (RGB float (H, W, 3) in [0, 1], alpha or None).

    Gray is repeated into RGB (a colour photo is taken to gray through its L).
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4) or 0 in image.shape[:2]:
        raise UserError(
            f"Expected an image of shape (H, W) or (H, W, C) with C in 1..4 and H, W > 0. Received: shape={image.shape}"
        )
    alpha = image[..., -1] if image.shape[-1] in (2, 4) else None
    rgb = _as_unit_float(image[..., :3] if image.shape[-1] >= 3 else image[..., :1])
    if rgb.shape[-1] == 1:
        rgb = np.repeat(rgb, 3, axis=-1)
    return rgb, alpha


def _resize(images, size, antialias=False):
    return ops.image.resize(images, size, interpolation="bilinear", antialias=antialias)


def colorize_lightness(lightness, predict_ab, image_size, resize=_resize, saturation=1.0, detail_size=None):
    """The colorization recipe, in `keras.ops`, shared by `Colorizer` and the exported graphs.

    Args:
        lightness: L in [0, 100], shape (N, H, W, 1), any H and W.
        predict_ab: network-range L (N, S, S, 1) -> ab (N, S, S, 2).
        image_size: S, the side the network sees.
        resize: `resize(images, (height, width), antialias)`, bilinear; graphs
            whose H, W are only known at run time pass `tf.image.resize`
            (`keras.ops.image.resize` wants sizes known when traced).
        saturation: a scale of the predicted a, b before they are fitted
            into sRGB: 0 gives the gray photo, 1 the network's own colour;
            above 1 skin-like hues gain less (`color.saturate`).
        detail_size: D or None: the L is shrunk to D x D before it is
            enlarged to S x S, so the network sees photos as detailed as
            its training photos were (`check_detail_size`).

    Returns:
        sRGB in [0, 1], (N, H, W, 3): the input's own L with the predicted
        a, b resized to (H, W); colours outside sRGB lose chroma, not
        lightness (`color.lightness_ab_to_rgb_in_gamut`).
    """
    ab_small = predict_small_ab(lightness, predict_ab, image_size, resize, detail_size)
    return render_colour(lightness, ab_small, resize, saturation)


def predict_small_ab(lightness, predict_ab, image_size, resize=_resize, detail_size=None):
    """The recipe's first half: L in [0, 100] (N, H, W, 1) -> the network's ab (N, S, S, 2), network range."""
    if detail_size and detail_size < image_size:
        lightness = resize(lightness, (detail_size, detail_size), antialias=True)
        l_small = resize(lightness, (image_size, image_size), antialias=False)
    else:
        l_small = resize(lightness, (image_size, image_size), antialias=True)
    return ops.cast(predict_ab(color.normalize_l(ops.clip(l_small, 0.0, 100.0))), "float32")


def render_colour(lightness, ab_small, resize=_resize, saturation=1.0):
    """The recipe's second half: the photo's own L with the network's ab (network range) resized to it -> sRGB [0, 1].

    Apart from `predict_small_ab` so that a change of saturation redraws a
    photo without running the network again (the demo's slider).
    """
    shape = ops.shape(lightness)
    ab = color.denormalize_ab(resize(ab_small, (shape[1], shape[2]), antialias=False))
    if saturation != 1.0:
        ab = color.saturate(ab, saturation)
    return color.lightness_ab_to_rgb_in_gamut(lightness, ab)


def check_detail_size(value, image_size):
    """`value` as an int in 1..image_size, None for none, or UserError naming it.

    A network trained on small photos enlarged (Tiny ImageNet's 64-pixel
    photos at 128) saw soft pictures; a photo shrunk straight to its size is
    sharper than any it learnt from. Shrinking the L to `detail_size` first
    and enlarging it to the network's size shows it photos as soft as its
    training photos. `image_size` (or None) is the plain recipe.
    """
    if value is None:
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size != value or not 1 <= size <= image_size:
        raise UserError(f"detail size must be a whole number of pixels from 1 to the network's size ({image_size}). "
                        f"Received: {value!r}")
    return None if size == image_size else size


def check_network_size(value, generator):
    """The side `generator` runs at: its training size for None, else `value` if the generator takes it, or UserError.

    The encoder is convolutional, so a model trained at 128 runs at any side
    its strides divide; a larger side shows it a sharper L (the ready-made
    model at 160: closer to the truth with more colour on imagenet500, a
    little farther on Kodak24; docs/lab/2026-12-06-tiny-imagenet.md).
    """
    if value is None:
        return generator.image_size
    try:
        size = int(value)
        if size != value:
            raise ValueError
        generator.check_size(size)
    except (TypeError, ValueError):
        raise UserError(f"network size must be a positive multiple of {generator.size_multiple} pixels for this "
                        f"model (trained at {generator.image_size}). Received: {value!r}") from None
    return size


def _check_exported_size(path, size, network_size):
    """Refuse a network size other than the one an exported model was written at (its graph is fixed)."""
    if network_size is not None and network_size != size:
        raise UserError(f"{path}: an exported model runs at {size}x{size} only; network size {network_size!r} needs a "
                        "checkpoint or preset (or an export with --network-size)")


def _exported_setting(tflite_path, name):
    """A setting (`detail_size`, `saturation`) the export wrote in the JSON beside a TFLite file, or None.

    None also where there is no such file or setting (an export from before the setting existed).
    """
    import json
    import os

    beside = os.path.splitext(tflite_path)[0] + ".json"
    try:
        with open(beside) as f:
            return json.load(f)["generator"].get(name)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _model_saturation(setting):
    """A loader's saturation: the caller's or the model's own setting, 1 (the network's colour) where neither names one."""
    return 1.0 if setting is None else setting


def check_saturation(value):
    """`value` as a float >= 0, or UserError naming it."""
    try:
        saturation = float(value)
    except (TypeError, ValueError):
        saturation = float("nan")
    if not np.isfinite(saturation) or saturation < 0:
        raise UserError(f"saturation must be a finite number >= 0 (0: gray, 1: the model's colour). Received: {value!r}")
    return saturation


@dataclasses.dataclass(frozen=True)
class Prediction:
    """What the network said about one photo: enough to draw it at any saturation.

    Attributes:
        lightness: the photo's own L in [0, 100], float32 (1, H, W, 1).
        ab_small: the predicted a, b in network range at the network's size, float32 (1, S, S, 2).
        alpha: the photo's alpha channel (H, W), or None.
    """

    lightness: np.ndarray
    ab_small: np.ndarray
    alpha: np.ndarray | None = None


class Colorizer:
    """A trained generator that colorizes arrays and files of any size.

    Args:
        generator: a generator model (L -> ab in network range), or None
            when `predict_ab` is given.
        image_size: the side the network sees (its training size).
        predict_ab: optional function network-range L (N, S, S, 1) -> ab,
            used instead of `generator` (an exported model).
        saturation: scale of the predicted colour (a, b), >= 0: 0 gives
            gray, 1 (the default) the network's own colour, above 1 stronger,
            skin-like hues less (`color.saturate`), then fitted into sRGB,
            lightness kept. The loaders default to the model's own setting:
            a preset's `saturation` (the ready-made one's is 1.75), 1 for a
            run.
        detail_size: shrink the photo's L to this side before enlarging it
            to the network's (`check_detail_size`); None for none. The
            loaders (`load`, `from_preset`, ...) default to the model's own
            setting: a preset's `detail_size`, none for a run.

    The loaders also take `network_size`: the side a Keras model runs at
    (`check_network_size`; default: a preset's own `network_size`, else its
    training size); an exported model runs at the size it was exported at.

    Example:
    >>> colorizer = Colorizer.from_preset("lite0_unet_tiny_imagenet")   # shipped with the package
    >>> rgb = colorizer.colorize_file("old_photo.jpg")   # uint8 (H, W, 3)
    >>> Colorizer.load("runs/2026-11-25_08-00-00", saturation=1.3)   # a run of your own, stronger colour
    """

    def __init__(self, generator, image_size, predict_ab=None, saturation=1.0, detail_size=None):
        if generator is None and predict_ab is None:
            raise ValueError("Colorizer needs a generator or a predict_ab function.")
        if image_size is None:
            raise ValueError("Colorizer needs the side the network sees; this generator has no image_size. "
                             "Received: image_size=None")
        self.generator = generator
        self.image_size = int(image_size)
        self._predict = predict_ab
        self.saturation = check_saturation(saturation)
        self.detail_size = check_detail_size(detail_size, self.image_size)

    @classmethod
    def load(cls, path, saturation=None, detail_size=None, network_size=None):
        """A `Colorizer` from a run or checkpoint folder, an exported SavedModel, a `.tflite` file, or a preset's name.

        All of them colorize through the same recipe (`colorize_lightness`);
        exported models through their `predict_ab` signature.
        """
        import os

        from keras_colorizer.swap import recover_on_load
        from keras_colorizer.presets import resolve_model

        path = resolve_model(path)
        for line in recover_on_load(path):  # an export killed mid-swap left the folder aside: put it right first
            print(line, flush=True)
        if os.path.isfile(path) and path.endswith(".tflite"):
            return cls.from_tflite(path, saturation=saturation, detail_size=detail_size, network_size=network_size)
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            return cls.from_saved_model(path, saturation=saturation, detail_size=detail_size, network_size=network_size)
        return cls.from_checkpoint(path, saturation=saturation, detail_size=detail_size, network_size=network_size)

    @classmethod
    def from_preset(cls, preset, saturation=None, detail_size=None, network_size=None):
        """A ready-made colorizer shipped with the package (`keras_colorizer.list_presets()`), or a preset folder."""
        import os

        from keras_colorizer.presets import preset_path

        path = os.fspath(preset)
        path = path if os.path.isdir(path) else preset_path(path)
        return cls.from_checkpoint(path, saturation=saturation, detail_size=detail_size, network_size=network_size)

    @classmethod
    def from_checkpoint(cls, path, saturation=None, detail_size=None, network_size=None):
        """From a run folder (its latest checkpoint), a checkpoint folder or a preset folder: its `generator.keras`."""
        from keras_colorizer.presets import preset_setting

        checkpoint = find_checkpoint(path)
        generator = load_generator(checkpoint)
        detail_size = preset_setting(checkpoint, "detail_size") if detail_size is None else detail_size
        network_size = preset_setting(checkpoint, "network_size") if network_size is None else network_size
        saturation = preset_setting(checkpoint, "saturation") if saturation is None else saturation
        size = check_network_size(network_size, generator)
        return cls(generator, size, saturation=_model_saturation(saturation), detail_size=detail_size)

    @classmethod
    def from_saved_model(cls, path, saturation=None, detail_size=None, network_size=None):
        """From the SavedModel that `python -m keras_colorizer.export` writes (its `predict_ab` signature)."""
        import tensorflow as tf

        try:
            loaded = tf.saved_model.load(path)
        except Exception as error:  # noqa: BLE001 - TensorFlow raises several types
            raise UserError(f"{path}: not a readable SavedModel ({first_line(error)})") from None
        signature = loaded.signatures.get(signatures.PREDICT_AB)
        if signature is None:
            raise UserError(
                f"{path}: a SavedModel without a {signatures.PREDICT_AB} signature; expected one written by "
                "python -m keras_colorizer.export"
            )
        size = signature.structured_input_signature[1][signatures.PREDICT_AB_INPUT].shape[1]
        _check_exported_size(path, size, network_size)

        def predict_ab(l_norm):
            inputs = {signatures.PREDICT_AB_INPUT: tf.convert_to_tensor(l_norm, tf.float32)}
            return signature(**inputs)[signatures.PREDICT_AB_OUTPUT]

        if detail_size is None and hasattr(loaded, "detail_size_setting"):  # exported with the model's setting
            detail_size = int(loaded.detail_size_setting.numpy()) or None
        if saturation is None and hasattr(loaded, "saturation_setting"):
            saturation = float(loaded.saturation_setting.numpy())
        colorizer = cls(None, size, predict_ab=predict_ab, saturation=_model_saturation(saturation),
                        detail_size=detail_size)
        colorizer._loaded = loaded  # keep the restored objects alive
        return colorizer

    @classmethod
    def from_tflite(cls, path, saturation=None, detail_size=None, network_size=None):
        """From a `.tflite` file that `python -m keras_colorizer.export` writes (its `predict_ab` signature)."""
        from ai_edge_litert.interpreter import Interpreter

        try:
            interpreter = Interpreter(model_path=path)
            runner = interpreter.get_signature_runner(signatures.PREDICT_AB)
        except Exception as error:  # noqa: BLE001 - the runtime raises ValueError or RuntimeError
            raise UserError(
                f"{path}: not a colorizer TFLite file with a {signatures.PREDICT_AB} signature ({first_line(error)})"
            ) from None
        size = int(runner.get_input_details()[signatures.PREDICT_AB_INPUT]["shape"][1])
        _check_exported_size(path, size, network_size)

        def predict_ab(l_norm):
            batch = np.asarray(l_norm, np.float32)
            outputs = [runner(**{signatures.PREDICT_AB_INPUT: one[None]}) for one in batch]
            return np.concatenate([out[signatures.PREDICT_AB_OUTPUT] for out in outputs])

        if detail_size is None:
            detail_size = _exported_setting(path, "detail_size")
        if saturation is None:
            saturation = _exported_setting(path, "saturation")
        colorizer = cls(None, size, predict_ab=predict_ab, saturation=_model_saturation(saturation),
                        detail_size=detail_size)
        colorizer._interpreter = interpreter
        return colorizer

    def predict_ab(self, l_norm):
        """Network-range L (N, S, S, 1) -> ab (N, S, S, 2), float32."""
        if self._predict is not None:
            return ops.cast(ops.convert_to_tensor(self._predict(l_norm)), "float32")
        return ops.cast(self.generator(l_norm, training=False), "float32")

    def predict_lab_ab(self, lightness):
        """L in [0, 100] (N, H, W, 1), any size -> the predicted a, b in CIELAB units at the network's size (N, S, S, 2).

        What `colorize` does before it resizes a, b to the photo; videos
        smooth a, b over time in between.
        """
        ab = predict_small_ab(ops.convert_to_tensor(lightness, "float32"), self.predict_ab, self.image_size,
                              detail_size=self.detail_size)
        return ops.convert_to_numpy(color.saturate(color.denormalize_ab(ab), self.saturation))

    def colorize(self, image):
        """Colorize one image; returns uint8 RGB (H, W, 3), or RGBA when the input has alpha.

        `image` may be gray (H, W) or (H, W, 1), gray + alpha, RGB (taken to
        gray through its L), or RGBA, as uint8, uint16 or float in [0, 1].
        """
        return self.render(self.predict(image))

    def predict(self, image):
        """Run the network on one image (any form `colorize` takes): a `Prediction` that `render` draws."""
        rgb, alpha = split_channels(image)
        lightness = color.rgb_to_lab(rgb[None])[..., :1]  # (1, H, W, 1), the photo's own L
        ab_small = predict_small_ab(lightness, self.predict_ab, self.image_size, detail_size=self.detail_size)
        return Prediction(ops.convert_to_numpy(lightness), ops.convert_to_numpy(ab_small), alpha)

    def render(self, prediction, saturation=None):
        """uint8 RGB (or RGBA) of a `Prediction` at `saturation` (default: this colorizer's), without the network."""
        saturation = self.saturation if saturation is None else check_saturation(saturation)
        rgb_out = render_colour(prediction.lightness, prediction.ab_small, saturation=saturation)[0]
        out = np.round(ops.convert_to_numpy(rgb_out) * 255.0).astype(np.uint8)
        if prediction.alpha is not None:
            out = np.concatenate([out, _as_uint8(prediction.alpha)[..., None]], axis=-1)
        return out

    def colorize_file(self, path):
        """Read a photo (any format `read_image` takes, alpha kept) and colorize it."""
        return self.colorize(read_image(path, keep_alpha=True))
