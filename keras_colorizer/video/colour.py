"""The colour conversions of `keras_colorizer.color`, in NumPy, for frames at full resolution.

A 640x360 frame through `color.rgb_to_lab` and `color.lab_to_rgb_in_gamut`
(a few dozen `keras.ops` calls dispatched one by one) cost about 90 ms each
on a 2-core CPU, more than the network. These give the same results (L to
1e-3, RGB within one 8-bit level, tested) in about 12 ms each: the sRGB
curves are lookup tables, the rest works channel by channel in place, and
the gamut mapping is the same closed form: out-of-sRGB colours are mixed
with the gray of their own luminance, so L is kept.
"""

import numpy as np

from keras_colorizer import color

_LINEAR_OF_UINT8 = np.where(
    (np.arange(256) / 255.0) > 0.04045,
    np.power((np.arange(256) / 255.0 + 0.055) / 1.055, 2.4),
    np.arange(256) / 255.0 / 12.92,
)
# Each channel's share of the luminance Y, per 8-bit value: Y is three lookups and two sums.
_Y_OF_UINT8 = (color.XYZ_FROM_RGB[1][:, None] * _LINEAR_OF_UINT8[None, :]).astype(np.float32)
_RGB_FROM_XYZ = color.RGB_FROM_XYZ.astype(np.float32)
_WHITE = color.D65_WHITE.astype(np.float32)
_ENCODE_STEPS = 1 << 16
_encode = np.linspace(0.0, 1.0, _ENCODE_STEPS)
_UINT8_OF_LINEAR = np.round(
    255.0 * np.where(_encode > 0.0031308, 1.055 * np.power(_encode, 1 / 2.4) - 0.055, 12.92 * _encode)
).astype(np.uint8)
del _encode
_DELTA = np.float32(6.0 / 29.0)


def _f_inverse(f):
    """As `color._f_inverse`: f^3 above 6/29, linear below (one sum, no branch)."""
    cube = np.maximum(f, _DELTA)
    linear = np.minimum(f, _DELTA)
    linear -= np.float32(4.0 / 29.0)
    linear *= np.float32(3.0 * _DELTA**2)
    linear -= _DELTA**3
    cube *= cube * cube
    cube += linear
    return cube


def lightness(frames):
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
    x, luminance, z = _f_inverse(fx), _f_inverse(fy), _f_inverse(fz)
    x *= _WHITE[0]
    luminance *= _WHITE[1]
    z *= _WHITE[2]
    np.clip(_f_inverse(fy), 0.0, 1.0, out=fy)  # fy now holds the gray's luminance, clipped
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
