"""Training for video: colour consistent as the camera moves (`--lambda-temporal`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_colorizer import color
from keras_colorizer.models import PatchGANDiscriminator, UNetGenerator
from keras_colorizer.gan.losses import ExtraLosses
from keras_colorizer.gan.pix2pix import Pix2Pix
from tests.conftest import real_crops


def _trained_generator(crops, steps=150, lambda_temporal=0.0):
    keras.utils.set_random_seed(0)
    generator = UNetGenerator(levels=4, ngf=16, dropout=0.0, seed=0)
    model = Pix2Pix(generator, PatchGANDiscriminator(n_layers=2, ndf=8, seed=1), seed=0)
    adam = lambda: keras.optimizers.Adam(1e-3, beta_1=0.5)  # noqa: E731
    model.compile(g_optimizer=adam(), d_optimizer=adam(), lambda_l1=100.0,
                  extra_losses=ExtraLosses(lambda_temporal=lambda_temporal, temporal_shift=16))
    dataset = tf.data.Dataset.from_tensor_slices(crops).repeat().shuffle(16, seed=0).batch(4)
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    draws = 1 if lambda_temporal else 0  # one offset a step
    assert int(ops.convert_to_numpy(model.film_seeds.state)[1]) == draws * steps
    return generator


@pytest.fixture(scope="module")
def photos_and_plain_generator():
    """12 training crops, 4 crops to score as (L, ab), and a generator trained on the 12 without the option.

    The built-in set has 7 photos, so the 4 scored crops (photos 5, 6, 0, 1) are photos the generators trained on:
    this test checks what the option teaches a tiny network, not how it generalizes (the real clips are in
    docs/benchmarks.md)."""
    crops = real_crops(16, 64)
    train, scored = crops[:12], crops[12:]
    l_norm, ab_true = (ops.convert_to_numpy(x) for x in color.rgb_to_network(scored))
    return train, l_norm, ab_true, _trained_generator(train)


def test_a_generator_trained_for_consistency_colours_a_moved_frame_alike(photos_and_plain_generator):
    train, l_norm, ab_true, plain = photos_and_plain_generator

    def change_when_moved(generator):
        """Mean |ab of a 48x48 crop - the same pixels of the whole image's ab| over crops at several offsets."""
        whole = ops.convert_to_numpy(generator(l_norm, training=False))
        changes = []
        for top, left in ((0, 0), (16, 16), (5, 11), (13, 2)):
            moved = ops.convert_to_numpy(generator(l_norm[:, top : top + 48, left : left + 48], training=False))
            changes.append(np.mean(np.abs(moved - whole[:, top : top + 48, left : left + 48])))
        return float(np.mean(changes)), whole

    plain_change, plain_ab = change_when_moved(plain)
    steady_change, steady_ab = change_when_moved(_trained_generator(train, lambda_temporal=50.0))
    # Measured 0.023 against 0.043 (0.53x); an option that changed nothing would train the same network (1.0x).
    assert steady_change < 0.7 * plain_change, (steady_change, plain_change)
    plain_error, steady_error = np.mean(np.abs(plain_ab - ab_true)), np.mean(np.abs(steady_ab - ab_true))
    # It costs this small network colour (measured 0.051 against 0.037, 1.38x; at weight 100, 1.9x):
    # what it costs the default generator is in docs/benchmarks.md.
    assert steady_error < 1.6 * plain_error, (steady_error, plain_error)
