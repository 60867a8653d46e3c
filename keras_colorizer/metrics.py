"""Scores of a colorized photo against the original: PSNR, SSIM, CIEDE2000, colourfulness.

PSNR, SSIM and CIEDE2000 come from scikit-image; colourfulness (Hasler and
Suesstrunk 2003) is a few lines here. Images are uint8 RGB (H, W, 3).
"""

import numpy as np
from skimage import color as skcolor
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def psnr(original, colorized):
    """PSNR in dB of uint8 RGB images (infinite for identical images)."""
    if np.array_equal(original, colorized):
        return float("inf")
    return float(peak_signal_noise_ratio(original, colorized, data_range=255))


def ssim(original, colorized):
    """Mean SSIM over the RGB channels (1 for identical images)."""
    small = min(original.shape[:2])
    window = min(7, small if small % 2 else small - 1)
    return float(structural_similarity(original, colorized, data_range=255, channel_axis=-1, win_size=window))


def ciede2000_lab(lab1, lab2):
    """Mean CIEDE2000 colour difference of two CIELAB arrays (..., 3)."""
    return float(np.mean(skcolor.deltaE_ciede2000(lab1, lab2)))


def ciede2000(original, colorized):
    """Mean CIEDE2000 colour difference of uint8 RGB images (0 for identical images)."""
    return ciede2000_lab(skcolor.rgb2lab(original), skcolor.rgb2lab(colorized))


def colourfulness(rgb):
    """Colourfulness of Hasler and Suesstrunk (2003) of a uint8 RGB image; 0 for gray.

    With rg = R - G and yb = (R + G) / 2 - B over all pixels:
    CF = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2).
    """
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def score(original, colorized):
    """All scores of one colorized photo, as a dict."""
    cf, cf_original = colourfulness(colorized), colourfulness(original)
    return {
        "psnr": psnr(original, colorized),
        "ssim": ssim(original, colorized),
        "ciede2000": ciede2000(original, colorized),
        "cf": cf,
        "cf_original": cf_original,
        "dcf": cf - cf_original,
    }
