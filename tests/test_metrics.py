import math

import numpy as np
import pytest
from skimage import color as skcolor

from keras_colorizer import metrics
from tests.conftest import real_crops


def test_identical_images_score_perfectly():
    photo = real_crops(1, 64)[0]
    assert float(metrics.psnr(photo, photo)) == metrics.MAX_PSNR_DB
    assert metrics.ssim(photo, photo) == pytest.approx(1.0)
    assert metrics.ciede2000(photo, photo) == pytest.approx(0.0, abs=1e-9)


def test_psnr_of_a_known_error():
    a = np.full((8, 8, 3), 100, np.uint8)
    b = a + 5  # mse 25
    assert float(metrics.psnr(a, b)) == pytest.approx(10 * math.log10(255**2 / 25), rel=1e-6)  # float32


def test_ciede2000_of_a_known_colour_pair():
    # Sharma, Wu and Dalal (2005), test pair 1: the published difference is 2.0425.
    lab1 = np.array([[50.0, 2.6772, -79.7751]])
    lab2 = np.array([[50.0, 0.0, -82.7485]])
    assert metrics.ciede2000_lab(lab1, lab2) == pytest.approx(2.0425, abs=1e-4)


def test_ciede2000_of_a_uniform_colour_shift():
    red = np.zeros((4, 4, 3), np.uint8)
    red[...] = (200, 30, 30)
    shifted = red.copy()
    shifted[...] = (200, 60, 30)
    expected = skcolor.deltaE_ciede2000(skcolor.rgb2lab(red[:1, :1]), skcolor.rgb2lab(shifted[:1, :1]))[0, 0]
    assert metrics.ciede2000(red, shifted) == pytest.approx(expected)
    assert expected > 5  # a visible shift


def test_colourfulness_by_hand():
    gray = np.full((4, 4, 3), 90, np.uint8)
    assert metrics.colourfulness(gray) == 0.0
    half = np.zeros((2, 1, 3), np.uint8)
    half[0] = (255, 0, 0)  # rg = 255, yb = 127.5
    half[1] = (0, 0, 255)  # rg = 0, yb = -255
    rg_std, yb_std = 127.5, 191.25
    rg_mean, yb_mean = 127.5, -63.75
    expected = math.hypot(rg_std, yb_std) + 0.3 * math.hypot(rg_mean, yb_mean)
    assert metrics.colourfulness(half) == pytest.approx(expected)


def test_score_reports_colourfulness_difference():
    photo = real_crops(1, 64)[0]
    gray = np.repeat(photo.mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    s = metrics.score(photo, gray)
    assert s["cf"] == 0.0 and s["cf_original"] > 0 and s["dcf"] == pytest.approx(-s["cf_original"])
