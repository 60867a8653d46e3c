"""The computations that exported models run, as TensorFlow functions of a generator.

One recipe for all: the photo's own L, the generator's a, b at its size,
resized back and pulled into the sRGB gamut (`colorize_lightness`).
"""

import numpy as np
import tensorflow as tf

from keras_colorizer import color
from keras_colorizer import signatures as names
from keras_colorizer.compat import freeze_concrete_function
from keras_colorizer.inference import colorize_lightness

# Largest image `serving_default` accepts: 50 megapixels.
MAX_PIXELS = 50_000_000


def gray_lightness_table():
    """L (0..100) of every 8-bit gray level, for a lookup instead of the pow ops."""
    gray = np.repeat(np.arange(256, dtype=np.float32)[:, None] / 255.0, 3, axis=-1)
    return tf.constant(np.asarray(color.rgb_to_lab(gray))[:, 0], dtype=tf.float32)


def gray_to_network_l(gray, size=None):
    """uint8 gray pixels -> their L in network range, float32: what `predict_ab` takes.

    `gray` is any shape, or (N, H, W, 1) when `size` is given: then L is
    resized to size x size first, as the TFLite `colorize` resizes a photo for the network.
    """
    table = gray_lightness_table().numpy()
    lightness = table[np.asarray(gray).astype(np.int32)]
    if size is not None:
        lightness = np.asarray(resize_static(tf.constant(lightness), (size, size), antialias=True))
    return np.asarray(color.normalize_l(lightness), np.float32)


def to_gray(crops):
    """RGB uint8 images (N, H, W, 3) -> the uint8 gray photos (N, H, W), same L, that `colorize` takes."""
    return np.round(np.asarray(color.rgb_to_gray(crops)) * 255.0).astype(np.uint8)[..., 0]


def to_uint8(rgb):
    return tf.cast(tf.round(tf.clip_by_value(rgb, 0.0, 1.0) * 255.0), tf.uint8)


def check_images(images, max_pixels=MAX_PIXELS):
    """Assertions that fail a request with InvalidArgument and a message, before any work."""
    shape = tf.shape(images)
    return [
        tf.debugging.assert_positive(shape[0], message="the batch is empty; expected at least one image"),
        tf.debugging.assert_positive(
            shape[1] * shape[2], message="image has zero height or width; expected at least 1x1 pixels"
        ),
        tf.debugging.assert_less_equal(
            shape[3], 4, message="image has more than 4 channels; expected 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)"
        ),
        tf.debugging.assert_positive(shape[3], message="image has 0 channels; expected 1 to 4"),
        tf.debugging.assert_less_equal(
            tf.cast(shape[1], tf.int64) * tf.cast(shape[2], tf.int64),
            tf.constant(max_pixels, tf.int64),
            message=f"image is larger than {max_pixels} pixels",
        ),
    ]


def check_network_l(l, size):
    """Assertions that fail a `predict_ab` request with InvalidArgument naming what was expected, before any work."""
    shape = tf.shape(l)
    dims = tf.concat([shape, tf.zeros([4], tf.int32)], axis=0)[:4]  # any rank, read as 4 dimensions
    fits = tf.logical_and(tf.equal(tf.size(shape), 4), tf.reduce_all(tf.equal(dims[1:], [size, size, 1])))
    expected = f"expected network-range L (L / 50 - 1, finite, in [-1, 1]) of shape [N, {size}, {size}, 1]"
    shape_check = tf.debugging.assert_equal(fits, True, message=f"l has the wrong shape; {expected}")
    # The value checks reduce over the signature's four axes: they run only once the shape is known good
    # (siblings would race, and a 3-D `l` could fail in a reduction before the shape check names it).
    with tf.control_dependencies([shape_check]):
        return [
            shape_check,
            tf.debugging.assert_positive(dims[0], message=f"the batch is empty; {expected}"),
            tf.debugging.assert_equal(tf.reduce_all(tf.math.is_finite(l)), True, message=f"l holds NaN or infinity; {expected}"),
            tf.debugging.assert_less_equal(tf.reduce_max(tf.abs(l)), 1.001, message=f"l is outside [-1, 1]; {expected}"),
        ]


def resize_dynamic(images, size, antialias=False):
    """Bilinear resize to a size known only at run time."""
    return tf.image.resize(images, size, method="bilinear", antialias=antialias)


def resize_static(images, size, antialias=False):
    """Bilinear resize between sizes known when traced, with builtin TFLite ops only.

    The same size is the identity (no op). An antialiased shrink first
    averages boxes of the largest whole factor that divides the image
    (AVERAGE_POOL_2D; `antialias=True` of `tf.image.resize` would need a Flex
    op), then resizes the rest of the way bilinearly; any other resize is
    plain bilinear.
    """
    height, width = images.shape[1], images.shape[2]
    if (height, width) == tuple(size):
        return images
    factor = min(height // size[0], width // size[1])
    if antialias and factor > 1 and height % factor == 0 and width % factor == 0:
        images = tf.nn.avg_pool2d(images, factor, factor, "VALID")
        if tuple(images.shape[1:3]) == tuple(size):
            return images
    return tf.image.resize(images, size, method="bilinear")


def colorize_uint8(images, predict_ab, image_size, max_pixels=MAX_PIXELS, detail_size=None, saturation=1.0):
    """uint8 images (N, H, W, C), C in 1..4 -> uint8 RGB (N, H, W, 3) at the same size."""
    with tf.control_dependencies(check_images(images, max_pixels)):
        channels = tf.shape(images)[3]
        rgb = tf.cond(
            channels >= 3,
            lambda: images[..., :3],
            lambda: tf.repeat(images[..., :1], 3, axis=-1),
        )
    lightness = color.rgb_to_lab(tf.cast(rgb, tf.float32) / 255.0)[..., :1]
    return to_uint8(colorize_lightness(lightness, predict_ab, image_size, resize=resize_dynamic, saturation=saturation,
                                       detail_size=detail_size))


def freeze(function, *input_specs):
    """A `tf.function` traced at `input_specs`, with every variable it reads turned into a graph constant.

    Returns the frozen concrete function; it returns a list of outputs.
    """
    return freeze_concrete_function(function.get_concrete_function(*input_specs))


def freeze_generator(generator, shape):
    """`generator` at inference as a function whose weights are graph constants: L -> ab, float32."""
    traced = tf.function(lambda l_norm: tf.cast(generator(l_norm, training=False), tf.float32))
    frozen = freeze(traced, tf.TensorSpec(shape, tf.float32))
    return lambda l_norm: frozen(l_norm)[0]


class ServingModule(tf.Module):
    """What the SavedModel for TensorFlow Serving holds: the generator and three signatures.

    The photo signatures colorize as `Colorizer` does with `detail_size` and `saturation`.
    """

    def __init__(self, generator, image_size, max_pixels=MAX_PIXELS, detail_size=None, saturation=1.0):
        super().__init__(name="colorizer")
        self.image_size = int(image_size)
        self.max_pixels = int(max_pixels)
        self.detail_size = detail_size  # the L shrunk to it first (`colorize_lightness`), or None
        # Saved with the model (0: none), so that `Colorizer.from_saved_model` draws as the signatures do.
        self.detail_size_setting = tf.Variable(detail_size or 0, dtype=tf.int32, trainable=False, name="detail_size")
        self.saturation_setting = tf.Variable(saturation, dtype=tf.float64, trainable=False, name="saturation")
        size = self.image_size
        # The weights go into the graph as constants, once. Saved as variables
        # of the Keras model, they restored in TF2 Python, but the session
        # loader that `saved_model_cli run` (and TF1-style loaders) use could
        # not find them ("Could not find variable up2_norm/moving_mean").
        self._predict = freeze_generator(generator, [None, size, size, 1])

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.uint8, name=names.SERVING_INPUT)])
        def serving_default(images):
            return {names.SERVING_OUTPUT: colorize_uint8(images, self._predict, size, self.max_pixels, detail_size, saturation)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.BYTES_INPUT)])
        def colorize_bytes(image_bytes):
            def one(encoded):
                image = tf.io.decode_image(encoded, channels=0, expand_animations=False)
                image = tf.image.convert_image_dtype(image, tf.uint8, saturate=True)
                out = colorize_uint8(image[None], self._predict, size, self.max_pixels, detail_size, saturation)[0]
                return tf.io.encode_png(out)

            return {names.BYTES_OUTPUT: tf.map_fn(one, image_bytes, fn_output_signature=tf.string)}

        @tf.function(input_signature=[tf.TensorSpec([None, size, size, 1], tf.float32, name=names.PREDICT_AB_INPUT)])
        def predict_ab(l):
            with tf.control_dependencies(check_network_l(l, size)):
                return {names.PREDICT_AB_OUTPUT: self._predict(tf.identity(l))}

        self.serving_default = serving_default
        self.colorize_bytes = colorize_bytes
        self.predict_ab = predict_ab

    def signatures(self):
        return {
            names.SERVING_DEFAULT: self.serving_default,
            names.COLORIZE_BYTES: self.colorize_bytes,
            names.PREDICT_AB: self.predict_ab,
        }


class MobileModule(tf.Module):
    """What each TFLite file holds: static batch-1 signatures.

    `colorize`: gray uint8 (1, S, S, 1) -> rgb uint8 (1, S, S, 3), Lab
    inside, the network run at `network_size` as on the desktop
    (`colorize_lightness`): the photo's L shrunk to it (to `detail_size`
    first, where given), the predicted ab enlarged back to S and scaled
    by `saturation` (`color.saturate`).
    `predict_ab` (the network alone): network-range L (1, N, N, 1) -> ab
    (1, N, N, 2), N `network_size`: by default the generator's training
    size (S if it has none); `export_model` passes a preset's own.
    """

    def __init__(self, generator, size, network_size=None, detail_size=None, saturation=1.0):
        super().__init__(name="colorizer_mobile")
        self.generator = generator
        self.size = int(size)
        self.network_size = int(network_size or generator.image_size or size)
        self.detail_size = detail_size = detail_size if detail_size and detail_size < self.network_size else None
        self.lightness_of_gray = gray_lightness_table()
        size, network_size = self.size, self.network_size

        def predict(l_norm):
            return tf.cast(self.generator(l_norm, training=False), tf.float32)

        @tf.function(input_signature=[tf.TensorSpec([1, size, size, 1], tf.uint8, name=names.MOBILE_INPUT)])
        def colorize(gray):
            lightness = tf.gather(self.lightness_of_gray, tf.cast(gray, tf.int32))
            rgb = colorize_lightness(lightness, predict, network_size, resize=resize_static, saturation=saturation,
                                     detail_size=detail_size)
            return {names.MOBILE_OUTPUT: to_uint8(rgb)}

        @tf.function(input_signature=[tf.TensorSpec([1, network_size, network_size, 1], tf.float32, name=names.PREDICT_AB_INPUT)])
        def predict_ab(l):
            return {names.PREDICT_AB_OUTPUT: predict(l)}

        self.colorize = colorize
        self.predict_ab = predict_ab

    def signatures(self):
        return {names.MOBILE_COLORIZE: self.colorize, names.PREDICT_AB: self.predict_ab}
