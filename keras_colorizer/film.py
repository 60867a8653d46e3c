"""Old film in training: the generator's gray input given grain and brightness flicker, the target colour left clean.

Old film reaches the network with per-pixel grain and a brightness that
changes from frame to frame. Trained on photos degraded this way, and asked
for their true colour, a generator learns colour that grain moves less (a
small network's colour changed 0.69x as much under grain, tests/test_film.py).
On the aged test clips that measured small: per-frame flicker 3% and the
smoothed output's 1% lower than the same run without it, because most of
those clips' flicker is the film's own L in the written frames
(docs/benchmarks.md).

Both are drawn per image at the training size, in `keras.ops` and
`keras.random` (every backend): the lightness L (0-100) is scaled by a gain
from N(1, flicker), then noise from N(0, s) is added, with s drawn per image
from U(0, grain) so the network sees clean and grainy images alike.
"""

import keras
from keras import ops

# L units per 8-bit gray level: the L scale's 100 over 255 levels, its mean slope (about 0.3-0.9 across the range).
L_PER_LEVEL = 100.0 / 255.0


def age_lightness(l_norm, grain, flicker, seed_generator):
    """L in network range (-1 to 1), as old film would show it.

    Args:
        l_norm: (N, H, W, 1) lightness in network range.
        grain: the largest standard deviation of the grain, in 8-bit levels
            (each image draws its own from 0 to this); 0 for none.
        flicker: standard deviation of each image's brightness gain; 0 for none.
        seed_generator: a `keras.random.SeedGenerator`, advanced by each draw.
    """
    if not grain and not flicker:
        return l_norm
    lightness = (ops.cast(l_norm, "float32") + 1.0) * 50.0
    per_image = (ops.shape(l_norm)[0], 1, 1, 1)
    if flicker:
        lightness = lightness * (1.0 + flicker * keras.random.normal(per_image, seed=seed_generator))
    if grain:
        strength = grain * L_PER_LEVEL * keras.random.uniform(per_image, seed=seed_generator)
        lightness = lightness + strength * keras.random.normal(ops.shape(l_norm), seed=seed_generator)
    return ops.clip(lightness / 50.0 - 1.0, -1.0, 1.0)
