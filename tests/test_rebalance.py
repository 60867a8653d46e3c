"""Colour rebalancing: rare colours weigh more in the L1 loss, common ones less, on average 1."""

import numpy as np
import pytest

from keras_colorizer import color
from keras_colorizer.gan import rebalance
from keras_colorizer.gan.losses import l1_loss
from tests.conftest import real_crops, tiny_options

B = rebalance.BINS_PER_AXIS


def _network_ab(a, b):
    return np.array([a, b], "float32") / color.AB_SCALE


def _bin(a, b):
    return int(rebalance.bin_index(_network_ab(a, b)))


def test_bins_are_ten_units_wide_over_the_whole_ab_range():
    assert B == 22
    assert _bin(-110, -110) == 0 and _bin(110, 110) == B * B - 1  # the edges stay inside
    assert _bin(0.5, 0.5) == 11 * B + 11 and _bin(-0.5, 0.5) == 10 * B + 11
    assert _bin(35, -72) == 14 * B + 3


def test_rarer_colours_get_larger_weights_that_average_one_over_the_training_pixels():
    counts = np.zeros(B * B)
    counts[_bin(0, 0)], counts[_bin(5, 25)], counts[_bin(60, 60)] = 1000, 100, 1
    weights = rebalance.rebalancing_weights(counts, mix=0.5, sigma=5.0)
    gray, tan, red = weights[_bin(0, 0)], weights[_bin(5, 25)], weights[_bin(60, 60)]
    assert gray < 1 < tan < red
    assert weights[_bin(-80, 80)] == weights.max()  # a colour no photo had: the largest weight, not infinite
    # The smoothed prior is not these raw shares, but the mean weight over the pixels stays close to 1.
    mean = (counts * weights).sum() / counts.sum()
    assert 0.8 < mean < 1.2, mean
    # mix 1: no rebalancing, every occupied colour weighs 1.
    np.testing.assert_allclose(rebalance.rebalancing_weights(counts, mix=1.0)[counts > 0], 1.0, rtol=1e-6)


@pytest.mark.parametrize("counts,mix,message", [
    (np.zeros(B * B), 0.5, "not all zero"),
    (np.ones(10), 0.5, "Received shape (10,)"),
    (np.ones(B * B), 0.0, "mix must be in (0, 1]. Received: mix=0.0"),
])
def test_bad_counts_or_mix_are_refused(counts, mix, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        rebalance.rebalancing_weights(counts, mix=mix)


def test_weights_from_the_built_in_photos_weigh_gray_down_and_saturated_colours_up():
    from keras_colorizer.data.builtin import BuiltinPhotos

    photos = BuiltinPhotos()
    weights = rebalance.weights_from_source(photos, range(len(photos)))
    assert weights[_bin(2, 5)] < 0.6 and weights[_bin(40, 50)] > 2.0, (weights[_bin(2, 5)], weights[_bin(40, 50)])
    # Over the photos' own pixels the weights average about 1 (so --lambda-l1 keeps its meaning).
    _, ab = color.rgb_to_network(np.concatenate([c.reshape(-1, 3) for c in real_crops(len(photos), 128)]))
    per_pixel = weights[np.asarray(rebalance.bin_index(ab))]
    assert 0.7 < per_pixel.mean() < 1.3, per_pixel.mean()
    # A large set is sampled evenly, the same images every time.
    sampled = rebalance.weights_from_source(photos, range(len(photos)), max_images=3)
    np.testing.assert_array_equal(sampled, rebalance.weights_from_source(photos, [0, 3, 6]))
    assert not np.array_equal(sampled, weights)


def test_weighted_l1_is_l1_with_equal_weights_and_charges_a_rare_colour_more():
    rng = np.random.default_rng(0)
    ab_real = rng.uniform(-0.5, 0.5, (2, 8, 8, 2)).astype("float32")
    ab_fake = ab_real + rng.normal(0, 0.1, ab_real.shape).astype("float32")
    ones = np.ones(B * B, "float32")
    np.testing.assert_allclose(float(rebalance.weighted_l1_loss(ab_fake, ab_real, ones)), float(l1_loss(ab_fake, ab_real)), rtol=1e-6)

    weights = ones.copy()
    weights[_bin(60, 60)] = 4.0
    real = np.stack([np.broadcast_to(_network_ab(0, 0), (4, 4, 2)), np.broadcast_to(_network_ab(65, 65), (4, 4, 2))])
    off = real + 0.05  # the same error on a gray and on a red photo
    per_photo = [float(rebalance.weighted_l1_loss(off[i : i + 1], real[i : i + 1], weights)) for i in range(2)]
    np.testing.assert_allclose(per_photo, [0.05, 0.2], rtol=1e-5)


def test_a_rebalanced_run_announces_its_weights_and_its_step_uses_them(tmp_path, capsys):
    from keras_colorizer.run.training import train

    result = train(tiny_options(tmp_path, rebalance=0.5, steps_per_epoch=1), verbose=0)
    assert "Colour rebalancing: L1 weights" in capsys.readouterr().out
    model = result.model
    assert model.ab_weights is not None and model.ab_weights.shape == (B * B,)
    _, ab_real = color.rgb_to_network(real_crops(2, 64))
    ab_fake = np.zeros_like(np.asarray(ab_real))  # gray: wrong by the most on the most colourful pixels
    logits = np.zeros((2, 6, 6, 1), "float32")
    g_loss, parts = model.generator_loss(logits, ab_fake, ab_real, 1.0)
    g_gan, g_l1 = parts["g_gan"], parts["g_l1"]
    expected = float(g_gan) + model.lambda_l1 * float(rebalance.weighted_l1_loss(ab_fake, ab_real, model.ab_weights))
    np.testing.assert_allclose(float(g_loss), expected, rtol=1e-5)
    assert float(g_loss) - float(g_gan) > 1.05 * model.lambda_l1 * float(g_l1)  # gray costs more once rare colours weigh more
