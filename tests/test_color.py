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


def test_srgb_curve_polynomial_follows_the_power_to_a_hundredth_of_an_8_bit_level():
    linear = np.linspace(0.0, 1.0, 200_001)
    exact = np.where(linear > 0.0031308, 1.055 * linear ** (1 / 2.4) - 0.055, 12.92 * linear)
    ours = ops.convert_to_numpy(color._srgb_curve(linear.astype("float32")))
    assert np.abs(ours - exact).max() * 255 < 0.01


def test_lab_to_rgb_matches_skimage_outside_the_gamut_too():
    """Both branches of the inverse f, also where lab2rgb has to clip."""
    L, a, b = np.meshgrid(np.linspace(0, 100, 21), np.linspace(-120, 120, 25), np.linspace(-120, 120, 25), indexing="ij")
    lab = np.stack([L, a, b], axis=-1).reshape(-1, 3)
    ours = ops.convert_to_numpy(color.lab_to_rgb(lab.astype("float32")))
    with np.errstate(all="ignore"):
        ref = skcolor.lab2rgb(lab.reshape(1, -1, 3)).reshape(-1, 3)
    assert np.abs(ours - ref).max() < 1e-4


def test_lab_to_rgb_in_gamut_leaves_srgb_colours_as_they_are():
    rgb = rgb_grid(16)
    lab = skcolor.rgb2lab(rgb.reshape(1, -1, 3).astype("float64")).reshape(-1, 3).astype("float32")
    assert np.abs(ops.convert_to_numpy(color.lab_to_rgb_in_gamut(lab)) - rgb).max() < 1e-3


def test_lab_to_rgb_in_gamut_keeps_lightness_and_desaturates_just_enough():
    rng = np.random.default_rng(0)
    lab = np.concatenate(
        [rng.uniform(5, 95, (500, 1)), rng.uniform(-110, 110, (500, 2))], axis=-1
    ).astype("float32")
    linear = ops.convert_to_numpy(color.lab_to_linear_rgb(lab)).astype("float64")
    outside = ((linear < 0) | (linear > 1)).any(axis=-1)
    assert outside.sum() > 300  # most of these colours are outside sRGB

    rgb = ops.convert_to_numpy(color.lab_to_rgb_in_gamut(lab)).astype("float64")
    # The photo's L survives (per-channel clipping, `lab_to_rgb`, moves it by up to tens of units).
    lab_out = skcolor.rgb2lab(rgb.reshape(1, -1, 3)).reshape(-1, 3)
    np.testing.assert_allclose(lab_out[:, 0], lab[:, 0], atol=0.02)
    clipped = skcolor.rgb2lab(ops.convert_to_numpy(color.lab_to_rgb(lab)).reshape(1, -1, 3)).reshape(-1, 3)
    assert np.abs(clipped[:, 0] - lab[:, 0]).max() > 5

    # The result lies on the straight line, in linear light, from the gray of the same
    # luminance to the colour asked for, at the largest weight that stays inside sRGB.
    luminance = linear @ color.XYZ_FROM_RGB[1]
    chroma = linear - luminance[:, None]
    out_linear = skcolor.rgb2xyz(rgb.reshape(1, -1, 3)).reshape(-1, 3) @ color.RGB_FROM_XYZ.T
    weight = np.sum((out_linear - luminance[:, None]) * chroma, -1) / np.sum(chroma * chroma, -1)
    np.testing.assert_allclose(out_linear, luminance[:, None] + weight[:, None] * chroma, atol=2e-4)
    grid = np.linspace(0.0, 1.0, 4001)
    mixes = luminance[:, None, None] + grid[None, :, None] * chroma[:, None, :]
    fits = np.all((mixes >= -1e-6) & (mixes <= 1 + 1e-6), axis=-1)
    best = np.where(fits.all(axis=1), 1.0, grid[np.argmin(fits, axis=1) - 1])
    np.testing.assert_allclose(weight, best, atol=1 / 4000 + 1e-3)
    assert np.all(weight[~outside] > 1 - 1e-3) and np.all(weight[outside] < 1)


def test_lab_to_rgb_in_gamut_at_black_and_white_is_gray():
    lab = np.array([[0.0, 60.0, -40.0], [100.0, -30.0, 80.0]], dtype="float32")
    rgb = ops.convert_to_numpy(color.lab_to_rgb_in_gamut(lab))
    np.testing.assert_allclose(rgb, [[0, 0, 0], [1, 1, 1]], atol=1e-4)


def polar(chroma, hue_degrees):
    """a, b (..., 2) of colours at these chromas and hues (CIELAB's atan2(b, a), degrees)."""
    hue = np.radians(np.asarray(hue_degrees, dtype="float64"))
    return np.stack([chroma * np.cos(hue), chroma * np.sin(hue)], axis=-1).astype("float32")


def chroma_hue(ab):
    return np.hypot(ab[..., 0], ab[..., 1]), np.degrees(np.arctan2(ab[..., 1], ab[..., 0]))


def test_saturate_scales_every_colour_alike_up_to_one():
    ab = np.random.default_rng(0).uniform(-80, 80, (500, 2)).astype("float32")
    for s in (0.0, 0.4, 1.0):
        np.testing.assert_allclose(ops.convert_to_numpy(color.saturate(ab, s)), s * ab, rtol=1e-6)


def test_saturate_above_one_spares_skin_hues_and_keeps_every_hue():
    """Outside the skin band (25-75 degrees, with 10-degree ramps) a, b gain x1.75; inside, chroma rises to 25
    and no further, and a colour already past it is kept, never made fainter. No colour changes hue."""
    s = 1.75
    sky, leaf, red, violet = polar(20.0, [-100.0, 130.0, 5.0, 300.0])
    faint_skin, strong_skin, over_skin = polar(np.array([8.0, 18.0, 36.0]), [50.0, 45.0, 60.0])
    ab = np.stack([sky, leaf, red, violet, faint_skin, strong_skin, over_skin])
    chroma, hue = chroma_hue(ops.convert_to_numpy(color.saturate(ab, s)))
    np.testing.assert_allclose(chroma[:4], s * 20.0, rtol=1e-5)  # other hues: the full gain
    np.testing.assert_allclose(chroma[4:], [s * 8.0, 25.0, 36.0], rtol=1e-5)  # skin: up to 25, never down
    np.testing.assert_allclose(hue, chroma_hue(ab)[1], atol=1e-3)
    # Across the band's edge the gain moves smoothly from the skin's to the full one, and is never below 1.
    hues = np.linspace(-30.0, 130.0, 321)
    gains = chroma_hue(ops.convert_to_numpy(color.saturate(polar(np.full(hues.shape, 40.0), hues), s)))[0] / 40.0
    assert np.all(gains[(hues > 25) & (hues < 75)] < 1.0 + 1e-5) and np.all(gains >= 1.0 - 1e-5)
    np.testing.assert_allclose(gains[(hues < 15) | (hues > 85)], s, rtol=1e-5)
    assert np.abs(np.diff(gains)).max() < 0.05
