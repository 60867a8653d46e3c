"""The colour conversions of `keras_colorizer.color`, in NumPy and OpenCV, for frames at full resolution.

A 640x360 frame through `color.rgb_to_lab` and `color.lab_to_rgb_in_gamut`
(each a dozen `keras.ops` calls dispatched one by one) costs about 90 ms on a
2-core CPU, more than the network. These give the same results (within one
8-bit level, tested) in a few milliseconds: the sRGB curves become lookup
tables, the Lab -> linear RGB step is a few NumPy operations, and the gamut mapping is the same closed form: out-of-sRGB
colours are mixed with the gray of their own luminance, so L is kept.
"""

import numpy as np

from keras_colorizer import color

_LINEAR_OF_UINT8 = np.where(
    (np.arange(256) / 255.0) > 0.04045,
    np.power((np.arange(256) / 255.0 + 0.055) / 1.055, 2.4),
    np.arange(256) / 255.0 / 12.92,
).astype(np.float32)
_Y_ROW = color.XYZ_FROM_RGB[1].astype(np.float32)
_RGB_FROM_XYZ_T = color.RGB_FROM_XYZ.T.astype(np.float32)
_WHITE = color.D65_WHITE.astype(np.float32)
_ENCODE_STEPS = 1 << 16
_encode = np.linspace(0.0, 1.0, _ENCODE_STEPS)
_UINT8_OF_LINEAR = np.round(
    255.0 * np.where(_encode > 0.0031308, 1.055 * np.power(_encode, 1 / 2.4) - 0.055, 12.92 * _encode)
).astype(np.uint8)
del _encode


def _f(t):
    return np.where(t > 0.008856, np.cbrt(np.maximum(t, 0.008856)), 7.787 * t + 16.0 / 116.0)


_DELTA = np.float32(6.0 / 29.0)


def _f_inverse(f):
    """As `color._f_inverse`: f^3 above 6/29, linear below (one sum, no branch)."""
    cube = np.maximum(f, _DELTA)
    return cube * cube * cube - _DELTA**3 + np.float32(3.0 * _DELTA**2) * (np.minimum(f, _DELTA) - np.float32(4.0 / 29.0))


def lightness(frames):
    """uint8 RGB (..., 3) -> CIELAB L in [0, 100], float32 (..., 1)."""
    y = _LINEAR_OF_UINT8[frames] @ _Y_ROW
    return (116.0 * _f(y) - 16.0).astype(np.float32)[..., None]


def lab_to_uint8_in_gamut(lab):
    """CIELAB float32 (H, W, 3) -> uint8 sRGB (H, W, 3); colours outside sRGB desaturated at their own L."""
    lab = np.asarray(lab, np.float32)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, np.maximum(fy - lab[..., 2] / 200.0, 0.0)], axis=-1)
    linear = (_f_inverse(f) * _WHITE) @ _RGB_FROM_XYZ_T
    luminance = np.clip(_f_inverse(fy), 0.0, 1.0)[..., None]
    chroma = linear - luminance
    above = chroma.max(axis=-1, keepdims=True)
    below = -chroma.min(axis=-1, keepdims=True)
    room_above, room_below = 1.0 - luminance, luminance
    weight = np.minimum(
        room_above / np.maximum(np.maximum(above, room_above), 1e-12),
        room_below / np.maximum(np.maximum(below, room_below), 1e-12),
    )
    mixed = np.clip(luminance + weight * chroma, 0.0, 1.0)
    return _UINT8_OF_LINEAR[(mixed * (_ENCODE_STEPS - 1) + 0.5).astype(np.int32)]
