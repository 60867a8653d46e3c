"""Scores of a colorized photo against the original: PSNR, SSIM, CIEDE2000, colourfulness.

SSIM and CIEDE2000 come from scikit-image; PSNR (the one the training
step, the evaluation and the export report all use) and colourfulness
(Hasler and Suesstrunk 2003) are a few lines here. Photos are uint8 RGB
(H, W, 3).
"""

import numpy as np
from keras import ops

# PSNR of identical images (and the cap of any PSNR): a finite number JSON and means can hold.
MAX_PSNR_DB = 100.0


def psnr(true, pred, max_value=255.0):
    """PSNR in dB over the last three axes: a scalar for one image (H, W, C), (N,) for a batch.

    Any backend tensor or NumPy array; capped at `MAX_PSNR_DB` (identical images).
    """
    true = ops.cast(ops.convert_to_tensor(true), "float32")
    pred = ops.cast(ops.convert_to_tensor(pred), "float32")
    mse = ops.mean(ops.square(true - pred), axis=(-3, -2, -1))
    floor = max_value**2 * 10.0 ** (-MAX_PSNR_DB / 10.0)
    return 10.0 * ops.log10(max_value**2 / ops.maximum(mse, floor))


SSIM_WINDOW = 7


def unscored_reason(photo):
    """Why a photo cannot be scored in full (None when it can)."""
    if min(photo.shape[:2]) < SSIM_WINDOW:
        return f"SSIM not taken: {photo.shape[1]}x{photo.shape[0]} pixels is smaller than its {SSIM_WINDOW}x{SSIM_WINDOW} window"
    return None


def ssim(original, colorized):
    """Mean SSIM over the RGB channels (1 for identical images); NaN for a photo smaller than the 7x7 window."""
    from skimage.metrics import structural_similarity

    if min(original.shape[:2]) < SSIM_WINDOW:
        return float("nan")
    return float(structural_similarity(original, colorized, data_range=255, channel_axis=-1, win_size=SSIM_WINDOW))


def ciede2000_lab(lab1, lab2):
    """Mean CIEDE2000 colour difference of two CIELAB arrays (..., 3)."""
    from skimage import color as skcolor

    return float(np.mean(skcolor.deltaE_ciede2000(lab1, lab2)))


def ciede2000(original, colorized):
    """Mean CIEDE2000 colour difference of uint8 RGB images (0 for identical images)."""
    from skimage import color as skcolor

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
        "psnr": float(psnr(original, colorized)),
        "ssim": ssim(original, colorized),
        "ciede2000": ciede2000(original, colorized),
        "cf": cf,
        "cf_original": cf_original,
        "dcf": cf - cf_original,
    }
