import numpy as np
from keras import ops
from skimage import color as skcolor

from keras_colorizer import color


def rgb_grid(levels=64):
    """Every RGB colour on a levels^3 grid in [0, 1], as (levels^3, 3) float32."""
    v = np.linspace(0.0, 1.0, levels)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    return np.stack([r, g, b], axis=-1).reshape(-1, 3).astype("float32")


def test_rgb_to_lab_matches_skimage_on_64_level_grid():
    rgb = rgb_grid(64)
    ours = ops.convert_to_numpy(color.rgb_to_lab(rgb))
    ref = skcolor.rgb2lab(rgb.reshape(1, -1, 3).astype("float64")).reshape(-1, 3)
    assert np.abs(ours - ref).max() < 0.01


def test_lab_to_rgb_matches_skimage_on_64_level_grid():
    lab = skcolor.rgb2lab(rgb_grid(64).reshape(1, -1, 3).astype("float64")).reshape(-1, 3)
    ours = ops.convert_to_numpy(color.lab_to_rgb(lab.astype("float32")))
    ref = skcolor.lab2rgb(lab.reshape(1, -1, 3)).reshape(-1, 3)
    assert np.abs(ours - ref).max() < 1e-4


def test_round_trip_rgb_lab_rgb_within_1e4():
    rgb = rgb_grid(64)
    back = ops.convert_to_numpy(color.lab_to_rgb(color.rgb_to_lab(rgb)))
    assert np.abs(back - rgb).max() < 1e-4


def test_batched_images_and_network_range():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 8, 5, 3), dtype=np.uint8)
    l_norm, ab_norm = color.rgb_to_network(images)
    assert tuple(l_norm.shape) == (2, 8, 5, 1)
    assert tuple(ab_norm.shape) == (2, 8, 5, 2)
    l_norm = ops.convert_to_numpy(l_norm)
    ab_norm = ops.convert_to_numpy(ab_norm)
    assert l_norm.min() >= -1.0 and l_norm.max() <= 1.0
    assert np.abs(ab_norm).max() <= 1.0
    back = ops.convert_to_numpy(color.network_to_rgb(l_norm, ab_norm))
    np.testing.assert_allclose(back * 255.0, images, atol=1e-2)


def test_extreme_colours_fit_network_range():
    # The most saturated sRGB colours reach |a|, |b| of about 108: AB_SCALE covers them.
    lab = ops.convert_to_numpy(color.rgb_to_lab(rgb_grid(16)))
    assert np.abs(lab[:, 1:]).max() < color.AB_SCALE


def test_lab8_decodes_opencv_encoding():
    # White and a saturated red, encoded as OpenCV stores 8-bit Lab.
    lab = skcolor.rgb2lab(np.array([[[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]]))[0]
    l8 = np.round(lab[:, 0] * 255.0 / 100.0).astype(np.uint8)
    ab8 = np.round(lab[:, 1:] + 128.0).astype(np.uint8)
    l_norm, ab_norm = color.lab8_to_network(l8, ab8)
    np.testing.assert_allclose(color.denormalize_l(ops.convert_to_numpy(l_norm)), lab[:, 0], atol=0.3)
    np.testing.assert_allclose(color.denormalize_ab(ops.convert_to_numpy(ab_norm)), lab[:, 1:], atol=0.5)


def test_gradients_are_finite_at_black_and_white():
    import tensorflow as tf

    rgb = tf.constant([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.2, 0.9]])
    with tf.GradientTape() as tape:
        tape.watch(rgb)
        lab = color.rgb_to_lab(rgb)
        back = color.lab_to_rgb(lab)
        loss = tf.reduce_sum(lab) + tf.reduce_sum(back)
    grad = tape.gradient(loss, rgb)
    assert np.isfinite(grad.numpy()).all()


def test_rgb_to_gray_keeps_lightness_and_drops_colour():
    rgb = rgb_grid(8)
    gray = ops.convert_to_numpy(color.rgb_to_gray(rgb))
    assert gray.shape == (512, 1)
    lab_gray = skcolor.rgb2lab(np.repeat(gray, 3, axis=-1).reshape(1, -1, 3).astype("float64")).reshape(-1, 3)
    lab = skcolor.rgb2lab(rgb.reshape(1, -1, 3).astype("float64")).reshape(-1, 3)
    np.testing.assert_allclose(lab_gray[:, 0], lab[:, 0], atol=0.01)
    assert np.abs(lab_gray[:, 1:]).max() < 0.01


def test_lab_to_rgb_matches_skimage_outside_the_gamut_too():
    """Both branches of the inverse f, also where lab2rgb has to clip."""
    L, a, b = np.meshgrid(np.linspace(0, 100, 21), np.linspace(-120, 120, 25), np.linspace(-120, 120, 25), indexing="ij")
    lab = np.stack([L, a, b], axis=-1).reshape(-1, 3)
    ours = ops.convert_to_numpy(color.lab_to_rgb(lab.astype("float32")))
    with np.errstate(all="ignore"):
        ref = skcolor.lab2rgb(lab.reshape(1, -1, 3)).reshape(-1, 3)
    assert np.abs(ours - ref).max() < 1e-4


def test_fit_ab_to_gamut_keeps_colours_inside_and_shrinks_the_others_just_enough():
    inside_lab = skcolor.rgb2lab(rgb_grid(16).reshape(1, -1, 3).astype("float64")).reshape(-1, 3).astype("float32")
    fitted = ops.convert_to_numpy(color.fit_ab_to_gamut(inside_lab[:, :1], inside_lab[:, 1:]))
    assert np.abs(fitted - inside_lab[:, 1:]).max() < 1e-3  # sRGB colours stay as they are

    rng = np.random.default_rng(0)
    lightness = rng.uniform(5, 95, (500, 1)).astype("float32")
    ab = rng.uniform(-110, 110, (500, 2)).astype("float32")
    fitted = ops.convert_to_numpy(color.fit_ab_to_gamut(lightness, ab))
    scale = np.linalg.norm(fitted, axis=-1) / np.linalg.norm(ab, axis=-1)
    np.testing.assert_allclose(fitted, ab * scale[:, None], atol=1e-3)  # same hue, toward gray
    linear = ops.convert_to_numpy(color.lab_to_linear_rgb(np.concatenate([lightness, fitted], axis=-1)))
    assert linear.min() > -1e-3 and linear.max() < 1.0 + 1e-3  # inside sRGB
    # Just enough: the largest scale on a fine grid that stays inside, to the bisection's 1/256.
    grid = np.linspace(0.0, 1.0, 1025, dtype="float32")
    lab = np.concatenate([np.repeat(lightness[:, None], 1025, 1), ab[:, None] * grid[None, :, None]], axis=-1)
    rgb = ops.convert_to_numpy(color.lab_to_linear_rgb(lab))
    ok = np.all((rgb >= -1e-4) & (rgb <= 1 + 1e-4), axis=-1)
    best = np.where(ok.all(axis=1), 1.0, grid[np.argmin(ok, axis=1) - 1])
    assert (scale < 0.99).sum() > 300  # most of these colours were outside
    assert np.all(np.abs(scale - best) <= 1 / 256 + 1 / 1024 + 1e-4), np.abs(scale - best).max()
