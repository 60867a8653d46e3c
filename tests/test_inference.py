import numpy as np
import pytest
from PIL import Image
from skimage import color as skcolor

from keras_colorizer.errors import UserError
from keras_colorizer.inference import Colorizer
from tests.conftest import real_crops, write_png16


@pytest.fixture(scope="module")
def colorizer(trained_run):
    return Colorizer.load(trained_run.run_dir)


def lightness(rgb_uint8):
    return skcolor.rgb2lab(rgb_uint8)[..., 0]


ONE_GRAY_LEVEL = 100.0 / 255.0  # one step of 8-bit gray, in L units


def test_odd_sized_photo_keeps_its_size_and_its_lightness(colorizer, tmp_path):
    photo = np.asarray(Image.fromarray(real_crops(1, 517)[0]).resize((517, 333)))  # 333 x 517
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    out = colorizer.colorize_file(path)
    assert out.shape == (333, 517, 3) and out.dtype == np.uint8
    assert np.abs(lightness(out) - lightness(photo)).max() <= ONE_GRAY_LEVEL


def test_gray_input_gives_colour_output_with_the_same_gray(colorizer):
    gray = real_crops(1, 96)[0].mean(axis=-1).astype(np.uint8)
    out = colorizer.colorize(gray)
    assert out.shape == (96, 96, 3)
    expected = lightness(np.repeat(gray[..., None], 3, axis=-1))
    assert np.abs(lightness(out) - expected).max() <= ONE_GRAY_LEVEL


def test_rgba_keeps_its_alpha(colorizer):
    rgb = real_crops(1, 64)[0]
    alpha = np.tile(np.arange(64, dtype=np.uint8)[None, :] * 4, (64, 1))
    out = colorizer.colorize(np.concatenate([rgb, alpha[..., None]], axis=-1))
    assert out.shape == (64, 64, 4)
    np.testing.assert_array_equal(out[..., 3], alpha)


def test_sixteen_bit_file_is_colorized(colorizer, tmp_path):
    rgb = real_crops(1, 64)[0]
    write_png16(tmp_path / "deep.png", rgb.astype(np.uint16) * 257)
    out = colorizer.colorize_file(tmp_path / "deep.png")
    assert out.shape == (64, 64, 3)
    assert np.abs(lightness(out) - lightness(rgb)).max() <= ONE_GRAY_LEVEL


def test_sixteen_bit_array_is_colorized(colorizer):
    rgb = real_crops(1, 64)[0]
    out = colorizer.colorize(rgb.astype(np.uint16) * 257)
    assert np.abs(lightness(out) - lightness(rgb)).max() <= ONE_GRAY_LEVEL


def test_bad_array_shape_is_a_user_error(colorizer):
    with pytest.raises(UserError, match=r"Received: shape=\(4, 4, 5\)"):
        colorizer.colorize(np.zeros((4, 4, 5), np.uint8))


@pytest.mark.parametrize(
    "alpha",
    [
        np.tile(np.arange(64, dtype=np.uint8)[None, :] * 4, (64, 1)),
        np.tile(np.arange(64, dtype=np.uint16)[None, :] * 4 * 257, (64, 1)),
        np.tile(np.arange(64, dtype=np.float32)[None, :] * 4 / 255.0, (64, 1)),
    ],
    ids=["uint8", "uint16", "float"],
)
def test_rgba_alpha_keeps_its_opacity_whatever_the_dtype(colorizer, alpha):
    rgb = real_crops(1, 64)[0]
    if alpha.dtype == np.uint16:
        rgb = rgb.astype(np.uint16) * 257
    elif alpha.dtype.kind == "f":
        rgb = rgb.astype(np.float32) / 255.0
    out = colorizer.colorize(np.concatenate([rgb, alpha[..., None]], axis=-1))
    assert out.dtype == np.uint8 and out.shape == (64, 64, 4)
    np.testing.assert_array_equal(out[..., 3], np.tile(np.arange(64, dtype=np.uint8)[None, :] * 4, (64, 1)))
    assert out[0, -1, 3] == 252  # fully opaque stays opaque (a float alpha of ~1.0 was cast to 0 or 1)
