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
# XYZ relative to the white (what CIELAB's f inverts to) -> linear RGB: columns scaled by the white.
_RGB_FROM_XYZ_WHITE = RGB_FROM_XYZ * D65_WHITE

# Network range: L / L_SCALE - 1 and ab / AB_SCALE.
L_SCALE = 50.0
AB_SCALE = 110.0

# 8-bit Lab as OpenCV stores it (the Kaggle "image-colorization" arrays):
# L scaled from [0, 100] to [0, 255], a and b offset by 128.
LAB8_L_SCALE = 255.0 / 100.0
LAB8_AB_OFFSET = 128.0

# `saturate` above 1: hues in this band (degrees, CIELAB's atan2(b, a)) gain
# chroma only up to SKIN_CHROMA; real skin lies at hue 40-70 and chroma 10-30.
SKIN_HUES = (25.0, 75.0)
SKIN_HUE_RAMP = 10.0
SKIN_CHROMA = 25.0

_EPS = 1e-8
_DELTA = 6.0 / 29.0  # where CIELAB's f switches from the cube root to its linear part
_SRGB_THRESHOLD = 0.0031308  # where sRGB's curve switches from linear to the power 1/2.4


def _float(x):
    """`x` as a tensor of float32, or float64 if it is that."""
    x = ops.convert_to_tensor(x)
    return x if x.dtype in ("float32", "float64") else ops.cast(x, "float32")


def _matmul_channels(x, matrix):
    """Multiply the last axis of `x` by a 3x3 matrix (y = M x per pixel)."""
    m = ops.convert_to_tensor(matrix.T.astype("float32"), dtype=x.dtype)
    return ops.matmul(x, m)


def rgb_to_lab(rgb):
    """sRGB in [0, 1], shape (..., 3) -> CIELAB (L in [0, 100], a, b)."""
    rgb = ops.clip(_float(rgb), 0.0, 1.0)
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


def _lab_to_linear_planes(lightness, a, b):
    """CIELAB as three (..., 1) planes -> (R, G, B, Y): linear-light RGB as planes, and the luminance Y.

    Plane by plane, with the white point folded into the matrix: a TFLite
    graph runs this as elementwise ops in XNNPACK, where slicing a 3-channel
    tensor, concatenating it back and a 3x3 matrix product per pixel cost
    more than the arithmetic itself.
    """
    fy = (lightness + 16.0) / 116.0
    x = _f_inverse(a / 500.0 + fy)
    y = _f_inverse(fy)  # the white's Y is 1
    z = _f_inverse(ops.maximum(fy - b / 200.0, 0.0))
    red, green, blue = (float(m[0]) * x + float(m[1]) * y + float(m[2]) * z for m in _RGB_FROM_XYZ_WHITE)
    return red, green, blue, y


def lab_to_linear_rgb(lab):
    """CIELAB (..., 3) -> linear-light RGB, not clipped (out-of-gamut colours leave [0, 1])."""
    lab = _float(lab)
    red, green, blue, _ = _lab_to_linear_planes(lab[..., 0:1], lab[..., 1:2], lab[..., 2:3])
    return ops.concatenate([red, green, blue], axis=-1)


def _fit_srgb_curve(degree=6):
    """Coefficients, highest power first, of the polynomial in q = x^(1/4) that follows sRGB's x^(1/2.4) part.

    On [0.0031308, 1] (where that part applies) q runs over [0.24, 1] and
    1.055 q^(5/3) - 0.055 is smooth there: degree 6 is within 1.1e-5 of it,
    0.003 of an 8-bit level.
    """
    x = np.linspace(_SRGB_THRESHOLD, 1.0, 20001)
    fit = np.polynomial.Chebyshev.fit(x**0.25, 1.055 * x ** (1.0 / 2.4) - 0.055, degree)
    return [float(c) for c in fit.convert(kind=np.polynomial.Polynomial).coef[::-1]]


_SRGB_POLYNOMIAL = _fit_srgb_curve()


def _srgb_curve(linear):
    """Linear-light RGB -> sRGB, clipped to [0, 1].

    Its two branches are summed (each is 0 where the other applies; they meet
    within 2e-5 at the threshold), for the reason given in `_f_inverse`. The
    power 1/2.4 is a polynomial in two square roots (`_fit_srgb_curve`,
    within 1.1e-5): LiteRT's XNNPACK has no POW, and on a 256x256 photo its
    own POW kernel took 2.3 ms where the polynomial takes 0.4.
    """
    q = ops.sqrt(ops.sqrt(ops.maximum(linear, _SRGB_THRESHOLD)))
    curve = _SRGB_POLYNOMIAL[0]
    for coefficient in _SRGB_POLYNOMIAL[1:]:
        curve = curve * q + coefficient
    return ops.clip(curve + 12.92 * (ops.minimum(linear, _SRGB_THRESHOLD) - _SRGB_THRESHOLD), 0.0, 1.0)


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
    lab = _float(lab)
    return lightness_ab_to_rgb_in_gamut(lab[..., :1], lab[..., 1:])


def lightness_ab_to_rgb_in_gamut(lightness, ab):
    """`lab_to_rgb_in_gamut` of L (..., 1) and a, b (..., 2) given apart, as a colorizer holds them."""
    a, b = ops.split(_float(ab), 2, axis=-1)  # one SPLIT in TFLite, half the cost of two slices
    red, green, blue, luminance = _lab_to_linear_planes(_float(lightness), a, b)
    # sRGB's neutral (R = G = B) of luminance Y is (Y, Y, Y): the Y row of XYZ_FROM_RGB sums to 1.
    luminance = ops.clip(luminance, 0.0, 1.0)
    chroma = [red - luminance, green - luminance, blue - luminance]
    # The largest weight w in [0, 1] with luminance + w * chroma inside [0, 1] in every
    # channel: the channel furthest above gray limits it toward 1, the one furthest below
    # toward 0. Each ratio has its numerator in the denominator's max, so it stays in
    # [0, 1] (1 where the channel fits) and no tensor holds a huge value (a quantized
    # graph calibrates a range on every tensor). At Y = 0 or Y = 1 only gray fits.
    above = ops.maximum(ops.maximum(chroma[0], chroma[1]), chroma[2])
    below = -ops.minimum(ops.minimum(chroma[0], chroma[1]), chroma[2])
    room_above, room_below = 1.0 - luminance, luminance
    tiny = 1e-12
    weight = ops.minimum(
        room_above / ops.maximum(ops.maximum(above, room_above), tiny),
        room_below / ops.maximum(ops.maximum(below, room_below), tiny),
    )
    return _srgb_curve(ops.concatenate([luminance + weight * c for c in chroma], axis=-1))


def saturate(ab, saturation):
    """a, b (CIELAB units, (..., 2)) scaled by `saturation`, sparing skin above 1.

    At or below 1 every colour is scaled alike: 0 gives gray, 1 the input.
    Above 1, a colour whose hue lies in `SKIN_HUES` (red-orange to
    yellow-orange, where skin lies) gains chroma up to `SKIN_CHROMA` and no
    further, and is never made fainter; other hues are scaled by
    `saturation`, with a ramp of `SKIN_HUE_RAMP` degrees between the two.
    A colorizer trained with L1 is surest, and often wrong, about faces
    (it reddens them), so a uniform boost paints them red.

    Hue is tested by its cosine to the band's middle, not an angle, so the
    same ops run in a builtin-ops TFLite graph and in the demo page.
    """
    ab = _float(ab)
    if saturation <= 1.0:
        return ab * saturation
    a, b = ops.split(ab, 2, axis=-1)
    chroma = ops.sqrt(a * a + b * b + _EPS)
    middle = np.radians(sum(SKIN_HUES) / 2.0)
    half = np.radians((SKIN_HUES[1] - SKIN_HUES[0]) / 2.0)
    edge, outer = np.cos(half), np.cos(half + np.radians(SKIN_HUE_RAMP))
    toward_middle = (a * np.cos(middle) + b * np.sin(middle)) / chroma  # cos of the hue's distance from the middle
    in_band = ops.clip((toward_middle - outer) / (edge - outer), 0.0, 1.0)
    skin_gain = ops.clip(SKIN_CHROMA / chroma, 1.0, saturation)
    return ab * (saturation + in_band * (skin_gain - saturation))


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


# --- The same conversions in NumPy, for frames at full resolution (the video pipeline).
#
# A 640x360 frame through `rgb_to_lab` and `lab_to_rgb_in_gamut` above (a few dozen `keras.ops` calls
# dispatched one by one) cost about 90 ms each on a 2-core CPU, more than the network. These give the
# same results (L to 1e-3, RGB within one 8-bit level, tests/test_video.py) in about 12 ms each: the sRGB
# curves are lookup tables, the rest works channel by channel in place, and the gamut mapping is the same
# closed form.

_LINEAR_OF_UINT8 = np.where(
    (np.arange(256) / 255.0) > 0.04045,
    np.power((np.arange(256) / 255.0 + 0.055) / 1.055, 2.4),
    np.arange(256) / 255.0 / 12.92,
)
# Each channel's share of the luminance Y, per 8-bit value: Y is three lookups and two sums.
_Y_OF_UINT8 = (XYZ_FROM_RGB[1][:, None] * _LINEAR_OF_UINT8[None, :]).astype(np.float32)
_RGB_FROM_XYZ = RGB_FROM_XYZ.astype(np.float32)
_WHITE = D65_WHITE.astype(np.float32)
_ENCODE_STEPS = 1 << 16
_encode = np.linspace(0.0, 1.0, _ENCODE_STEPS)
_UINT8_OF_LINEAR = np.round(
    255.0 * np.where(_encode > 0.0031308, 1.055 * np.power(_encode, 1 / 2.4) - 0.055, 12.92 * _encode)
).astype(np.uint8)
del _encode
_DELTA32 = np.float32(6.0 / 29.0)


def _f_inverse_numpy(f):
    """`_f_inverse` in place-friendly NumPy: f^3 above 6/29, linear below (one sum, no branch)."""
    cube = np.maximum(f, _DELTA32)
    linear = np.minimum(f, _DELTA32)
    linear -= np.float32(4.0 / 29.0)
    linear *= np.float32(3.0 * _DELTA32**2)
    linear -= _DELTA32**3
    cube *= cube * cube
    cube += linear
    return cube


def lightness_of_uint8(frames):
    """uint8 RGB (..., 3) -> CIELAB L in [0, 100], float32 (..., 1)."""
    y = np.take(_Y_OF_UINT8[0], frames[..., 0])
    y += np.take(_Y_OF_UINT8[1], frames[..., 1])
    y += np.take(_Y_OF_UINT8[2], frames[..., 2])
    f = np.power(y, np.float32(1.0 / 3.0))  # y >= 0; faster than np.cbrt here
    dark = y <= 0.008856  # CIELAB's linear part near black (few pixels: fixed where they are)
    f[dark] = np.float32(7.787) * y[dark] + np.float32(16.0 / 116.0)
    f *= np.float32(116.0)
    f -= np.float32(16.0)
    return f[..., None]


def lab_to_uint8_in_gamut(lab):
    """CIELAB float32 (H, W, 3) -> uint8 sRGB (H, W, 3); colours outside sRGB desaturated at their own L.

    Works channel by channel, in place where it can: a 640x360 frame is a
    few dozen passes over 230,400 floats.
    """
    lab = np.asarray(lab, np.float32)
    fy = lab[..., 0] + np.float32(16.0)
    fy /= np.float32(116.0)
    fx = lab[..., 1] / np.float32(500.0)
    fx += fy
    fz = lab[..., 2] / np.float32(-200.0)
    fz += fy
    np.maximum(fz, 0.0, out=fz)
    x, luminance, z = _f_inverse_numpy(fx), _f_inverse_numpy(fy), _f_inverse_numpy(fz)
    x *= _WHITE[0]
    luminance *= _WHITE[1]
    z *= _WHITE[2]
    np.clip(_f_inverse_numpy(fy), 0.0, 1.0, out=fy)  # fy now holds the gray's luminance, clipped
    gray = fy
    chroma = []
    for row in _RGB_FROM_XYZ:
        channel = row[0] * x
        channel += row[1] * luminance
        channel += row[2] * z
        channel -= gray
        chroma.append(channel)
    above = np.maximum(np.maximum(chroma[0], chroma[1]), chroma[2])
    below = -np.minimum(np.minimum(chroma[0], chroma[1]), chroma[2])
    room_above = 1.0 - gray
    # The largest weight in [0, 1] that keeps every channel of gray + weight * chroma inside [0, 1].
    np.maximum(above, room_above, out=above)
    np.maximum(above, 1e-12, out=above)
    np.divide(room_above, above, out=above)
    np.maximum(below, gray, out=below)
    np.maximum(below, 1e-12, out=below)
    np.divide(gray, below, out=below)
    weight = np.minimum(above, below, out=above)
    out = np.empty(lab.shape[:-1] + (3,), np.uint8)
    for i, channel in enumerate(chroma):
        channel *= weight
        channel += gray
        np.clip(channel, 0.0, 1.0, out=channel)
        channel *= np.float32(_ENCODE_STEPS - 1)
        channel += np.float32(0.5)
        out[..., i] = np.take(_UINT8_OF_LINEAR, channel.astype(np.int32))
    return out
