"""sRGB (D65) <-> CIELAB, written with `keras.ops`.

Everything here is batched (any leading shape, channels last), differentiable
and made of plain elementwise ops and one 3x3 matrix product, so the same
functions run inside a training step, a SavedModel and a builtin-ops TFLite
graph. Constants follow `skimage.color` (sRGB primaries, D65 white point,
2 degree observer), so results agree with `rgb2lab` / `lab2rgb`.

This module is also the single home of the scaling between CIELAB and the
network's range: L in [0, 100] maps to [-1, 1] and a, b in [-110, 110] map
to [-1, 1].
"""

import numpy as np
from keras import ops

# sRGB linear RGB -> XYZ (sRGB specification, the matrix skimage uses).
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
D65_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)

# Network range: L / L_SCALE - 1 and ab / AB_SCALE.
L_SCALE = 50.0
AB_SCALE = 110.0

# 8-bit Lab as OpenCV stores it (the Kaggle "image-colorization" arrays):
# L scaled from [0, 100] to [0, 255], a and b offset by 128.
LAB8_L_SCALE = 255.0 / 100.0
LAB8_AB_OFFSET = 128.0

_EPS = 1e-8
_DELTA = 6.0 / 29.0  # where CIELAB's f switches from the cube root to its linear part


def _matmul_channels(x, matrix):
    """Multiply the last axis of `x` by a 3x3 matrix (y = M x per pixel)."""
    m = ops.convert_to_tensor(matrix.T.astype("float32"), dtype=x.dtype)
    return ops.matmul(x, m)


def rgb_to_lab(rgb):
    """sRGB in [0, 1], shape (..., 3) -> CIELAB (L in [0, 100], a, b)."""
    rgb = ops.convert_to_tensor(rgb)
    if rgb.dtype not in ("float32", "float64"):
        rgb = ops.cast(rgb, "float32")
    rgb = ops.clip(rgb, 0.0, 1.0)
    linear = ops.where(
        rgb > 0.04045,
        ops.power((rgb + 0.055) / 1.055, 2.4),
        rgb / 12.92,
    )
    xyz = _matmul_channels(linear, XYZ_FROM_RGB)
    white = ops.convert_to_tensor(D65_WHITE.astype("float32"), dtype=xyz.dtype)
    t = xyz / white
    # The cube root's slope is infinite at 0; clamp its argument so the
    # branch `where` discards does not send NaN gradients back.
    f = ops.where(
        t > 0.008856,
        ops.power(ops.maximum(t, 0.008856), 1.0 / 3.0),
        7.787 * t + 16.0 / 116.0,
    )
    fx, fy, fz = f[..., 0:1], f[..., 1:2], f[..., 2:3]
    lightness = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return ops.concatenate([lightness, a, b], axis=-1)


def _f_inverse(f):
    """The inverse of CIELAB's f: f^3 above DELTA = 6/29, 3 DELTA^2 (f - 4/29) below.

    Written as one sum (each branch is 0 where the other applies) rather than
    a `where`, so a TFLite file runs it in XNNPACK (comparisons and SELECT
    fall back to slower kernels).
    """
    cube = ops.maximum(f, _DELTA)
    return cube * cube * cube - _DELTA**3 + 3.0 * _DELTA**2 * (ops.minimum(f, _DELTA) - 4.0 / 29.0)


def lab_to_linear_rgb(lab):
    """CIELAB (..., 3) -> linear-light RGB, not clipped (out-of-gamut colours leave [0, 1])."""
    lab = ops.convert_to_tensor(lab)
    if lab.dtype not in ("float32", "float64"):
        lab = ops.cast(lab, "float32")
    lightness, a, b = lab[..., 0:1], lab[..., 1:2], lab[..., 2:3]
    fy = (lightness + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = ops.maximum(fy - b / 200.0, 0.0)
    t = _f_inverse(ops.concatenate([fx, fy, fz], axis=-1))
    white = ops.convert_to_tensor(D65_WHITE.astype("float32"), dtype=t.dtype)
    return _matmul_channels(t * white, RGB_FROM_XYZ)


def _srgb_curve(linear):
    """Linear-light RGB -> sRGB, clipped to [0, 1].

    Its two branches are summed (each is 0 where the other applies; they meet
    within 4e-6 at the threshold), for the reason given in `_f_inverse`.
    """
    threshold = 0.0031308
    curve = 1.055 * ops.power(ops.maximum(linear, threshold), 1.0 / 2.4) - 0.055
    return ops.clip(curve + 12.92 * (ops.minimum(linear, threshold) - threshold), 0.0, 1.0)


def lab_to_rgb(lab):
    """CIELAB (..., 3) -> sRGB in [0, 1], clipped per channel like `skimage.color.lab2rgb`."""
    return _srgb_curve(lab_to_linear_rgb(lab))


def lab_to_rgb_in_gamut(lab):
    """CIELAB (..., 3) -> sRGB in [0, 1], colours outside sRGB desaturated at their own lightness.

    Clipping an out-of-gamut colour per channel changes its lightness. Here
    each such pixel is mixed, in linear light, with the gray of the same
    luminance Y, just enough to fit: luminance is linear in linear RGB, so
    the mix keeps Y, and so L, exactly; its chromaticity moves on a straight
    line toward the white point, so hue in Lab shifts a little (on a trained
    model's photos the result is within CIEDE2000 0.003 on average of keeping
    the Lab hue exactly). Colours inside sRGB are left as they are.
    The mixing weight is closed-form (the most each channel allows toward 0
    and toward 1), a few elementwise ops, where a search over the chroma in
    Lab took 9 evaluations of the Lab -> RGB conversion per pixel.
    """
    lab = ops.convert_to_tensor(lab)
    if lab.dtype not in ("float32", "float64"):
        lab = ops.cast(lab, "float32")
    linear = lab_to_linear_rgb(lab)
    # sRGB's neutral (R = G = B) of luminance Y is (Y, Y, Y): the Y row of XYZ_FROM_RGB sums to 1.
    luminance = ops.clip(_f_inverse((lab[..., 0:1] + 16.0) / 116.0), 0.0, 1.0)
    chroma = linear - luminance
    # The largest weight w in [0, 1] with luminance + w * chroma inside [0, 1] in every
    # channel: the channel furthest above gray limits it toward 1, the one furthest below
    # toward 0. Each ratio has its numerator in the denominator's max, so it stays in
    # [0, 1] (1 where the channel fits) and no tensor holds a huge value (a quantized
    # graph calibrates a range on every tensor). At Y = 0 or Y = 1 only gray fits.
    above = ops.maximum(ops.maximum(chroma[..., 0:1], chroma[..., 1:2]), chroma[..., 2:3])
    below = ops.maximum(ops.maximum(-chroma[..., 0:1], -chroma[..., 1:2]), -chroma[..., 2:3])
    room_above, room_below = 1.0 - luminance, luminance
    tiny = 1e-12
    weight = ops.minimum(
        room_above / ops.maximum(ops.maximum(above, room_above), tiny),
        room_below / ops.maximum(ops.maximum(below, room_below), tiny),
    )
    return _srgb_curve(luminance + weight * chroma)


def rgb_to_gray(rgb):
    """sRGB (uint8 or float in [0, 1]), (..., 3) -> the neutral gray with the same L, float in [0, 1], (..., 1).

    This is the gray photo a colorizer is given: same lightness, no colour.
    """
    rgb = ops.convert_to_tensor(rgb)
    if rgb.dtype == "uint8":
        rgb = ops.cast(rgb, "float32") / 255.0
    lightness = rgb_to_lab(rgb)[..., :1]
    return lab_to_rgb(ops.concatenate([lightness, ops.zeros_like(lightness), ops.zeros_like(lightness)], axis=-1))[..., :1]


def lightness_to_gray(lightness):
    """L in [0, 100], (..., 1) -> the sRGB value in [0, 1] of the neutral gray of that lightness.

    For a neutral colour R = G = B = Y (the Y row of `XYZ_FROM_RGB` sums to 1).
    """
    y = _f_inverse((ops.convert_to_tensor(lightness) + 16.0) / 116.0)
    return _srgb_curve(y)


def normalize_l(lightness):
    """L in [0, 100] -> network range [-1, 1]."""
    return lightness / L_SCALE - 1.0


def denormalize_l(l_norm):
    """Network-range L in [-1, 1] -> L in [0, 100]."""
    return (l_norm + 1.0) * L_SCALE


def normalize_ab(ab):
    """a, b in [-110, 110] -> network range [-1, 1]."""
    return ab / AB_SCALE


def denormalize_ab(ab_norm):
    """Network-range ab in [-1, 1] -> a, b in [-110, 110]."""
    return ab_norm * AB_SCALE


def rgb_to_network(rgb):
    """sRGB (uint8 in [0, 255] or float in [0, 1]), (..., 3) -> (L, ab) in network range.

    Returns a pair: L with shape (..., 1) and ab with shape (..., 2).
    """
    rgb = ops.convert_to_tensor(rgb)
    if rgb.dtype == "uint8":
        rgb = ops.cast(rgb, "float32") / 255.0
    lab = rgb_to_lab(rgb)
    return normalize_l(lab[..., :1]), normalize_ab(lab[..., 1:])


def network_to_rgb(l_norm, ab_norm):
    """(L, ab) in network range -> sRGB float in [0, 1], (..., 3)."""
    lab = ops.concatenate([denormalize_l(l_norm), denormalize_ab(ab_norm)], axis=-1)
    return lab_to_rgb(lab)


def lab8_to_network(l8, ab8):
    """OpenCV 8-bit Lab (L*255/100, a+128, b+128) as uint8 -> (L, ab) in network range."""
    l8 = ops.cast(l8, "float32")
    ab8 = ops.cast(ab8, "float32")
    return normalize_l(l8 / LAB8_L_SCALE), normalize_ab(ab8 - LAB8_AB_OFFSET)
