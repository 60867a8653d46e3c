"""Colour as classification (`ab_classes`): the bins, the soft targets, the annealed mean, the classifying generator."""

import keras
import numpy as np
import pytest

from keras_colorizer import color
from keras_colorizer.models import ab_classes
from keras_colorizer.gan import rebalance
from tests.conftest import real_crops, tiny_options


@pytest.fixture(scope="module")
def real_ab():
    _, ab = color.rgb_to_network(real_crops(2, 64))
    return np.asarray(ab)


def test_each_bin_centre_lies_in_its_own_bin_and_soft_targets_peak_at_the_true_bin(real_ab):
    centres = ab_classes.bin_centres()
    assert centres.shape == (ab_classes.CLASSES, 2)
    np.testing.assert_array_equal(np.asarray(rebalance.bin_index(centres)), np.arange(ab_classes.CLASSES))

    targets = np.asarray(ab_classes.soft_targets(real_ab))
    assert targets.shape == (*real_ab.shape[:-1], ab_classes.CLASSES)
    np.testing.assert_allclose(targets.sum(-1), 1.0, atol=1e-5)
    # The nearest centre gets the most weight; the paper's sigma of 5 (half a bin) keeps most of it within a bin.
    nearest = np.argmin(((real_ab[..., None, :] - centres) ** 2).sum(-1), axis=-1)
    np.testing.assert_array_equal(targets.argmax(-1), nearest)
    assert 0.3 < targets.max(-1).mean() < 0.9


def test_annealed_mean_runs_from_the_mean_to_the_mode_and_the_loss_is_least_at_the_truth(real_ab):
    targets = np.asarray(ab_classes.soft_targets(real_ab))
    logits = np.log(np.maximum(targets, 1e-30)).astype("float32")
    mean = np.asarray(ab_classes.AnnealedMean(temperature=1.0)(logits))
    colourful = np.abs(real_ab).max(-1) > 0.05
    # At T = 1 the mean of the soft target: the true colour, to within a unit of a, b on real colours.
    assert np.abs(mean - real_ab)[colourful].mean() * color.AB_SCALE < 1.0
    mode = np.asarray(ab_classes.AnnealedMean(temperature=0.01)(logits))
    centres = ab_classes.bin_centres()[targets.argmax(-1)]
    top_two = np.sort(targets, axis=-1)[..., -2:]
    decided = top_two[..., 1] > top_two[..., 0] + 0.05  # not on the border between two bins
    assert decided.mean() > 0.8
    np.testing.assert_allclose(mode[decided], centres[decided], atol=1e-3)

    truth = float(ab_classes.class_loss(logits, real_ab))
    assert truth < float(ab_classes.class_loss(np.zeros_like(logits), real_ab)) - 3.0  # below ln(484) = 6.18
    shifted = np.roll(logits, 3, axis=-1)  # every colour three b bins off
    assert truth < float(ab_classes.class_loss(shifted, real_ab))
    # Strided logits are scored against the true ab averaged to their size.
    half = logits[:, ::2, ::2]
    assert float(ab_classes.class_loss(half, real_ab)) < float(ab_classes.class_loss(np.zeros_like(half), real_ab))
    weights = np.full(ab_classes.CLASSES, 2.0, "float32")
    np.testing.assert_allclose(float(ab_classes.class_loss(logits, real_ab, weights)), 2 * truth, rtol=1e-5)


def _classifying_generator(**kwargs):
    from keras_colorizer.models import build_generator

    return build_generator("efficientnet_lite0_unet", ab_head="classes", image_size=64, seed=0,
                           decoder_filters=(32, 32, 16, 16), **kwargs)


@pytest.fixture(scope="module")
def trained_classifier():
    """A classifying Lite0 generator trained 20 steps on real crops (classification loss, rebalanced, and the GAN).

    Returns the generator, the crops, and the ab and the cross-entropy on them before and after.
    """
    import tensorflow as tf

    from keras_colorizer.run.assemble import paper_adam
    from keras_colorizer.models import PatchGANDiscriminator, build_generator
    from keras_colorizer.gan.losses import ExtraLosses
    from keras_colorizer.gan.pix2pix import Pix2Pix

    generator = build_generator("efficientnet_lite0_unet", ab_head="classes", image_size=64, seed=0,
                                decoder_filters=(32, 32, 16, 16))
    crops = real_crops(4, 64)
    l_norm, ab_real = color.rgb_to_network(crops)
    model = Pix2Pix(generator, PatchGANDiscriminator(n_layers=2, ndf=8, seed=1))

    def scores():
        ab, logits = model.generate(l_norm)
        return np.asarray(ab), float(ab_classes.class_loss(logits, ab_real))

    before = scores()
    adam = dict(lr=1e-3, beta1=0.5, total_steps=100, decay_steps=0)
    weights = rebalance.rebalancing_weights(rebalance.ab_histogram(ab_real))
    model.compile(g_optimizer=paper_adam("g", **adam), d_optimizer=paper_adam("d", **adam), lambda_l1=0.0,
                  extra_losses=ExtraLosses(lambda_class=10.0, ab_weights=weights))
    history = model.fit(tf.data.Dataset.from_tensor_slices(crops).repeat().batch(4), epochs=1, steps_per_epoch=20,
                        verbose=0).history
    assert "g_class" in history
    return generator, crops, before, scores()


def test_a_classifying_generator_learns_real_colours_and_saves_and_loads_the_keras_way(trained_classifier, tmp_path):
    generator, crops, (start, start_loss), (trained, trained_loss) = trained_classifier
    assert generator.get_layer("ab_logits").output.shape[-1] == ab_classes.CLASSES
    assert start.shape == (4, 64, 64, 2) and np.abs(start).max() < 0.05  # every bin alike at first: gray
    assert start_loss == pytest.approx(np.log(ab_classes.CLASSES), abs=0.05)
    assert trained_loss < 0.7 * start_loss, (start_loss, trained_loss)
    l_norm, ab_real = color.rgb_to_network(crops)
    assert np.abs(trained - ab_real).mean() < np.abs(start - ab_real).mean()  # nearer the truth than gray

    path = tmp_path / "generator.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_config()["ab_head"] == "classes" and loaded.temperature == pytest.approx(0.38)
    np.testing.assert_allclose(np.asarray(loaded(l_norm)), trained, atol=1e-6)


def test_another_temperature_keeps_the_weights_and_only_sharpens_or_softens_the_colour(trained_classifier):
    from keras_colorizer.models import build_generator

    generator, crops = trained_classifier[:2]
    l_norm, _ = color.rgb_to_network(crops)
    same = ab_classes.at_temperature(generator, generator.temperature)
    np.testing.assert_allclose(np.asarray(same(l_norm)), np.asarray(generator(l_norm)), atol=1e-6)

    def chroma(temperature):
        ab = np.asarray(ab_classes.at_temperature(generator, temperature)(l_norm))
        return np.hypot(ab[..., 0], ab[..., 1]).mean()

    assert chroma(0.1) > chroma(0.38) > chroma(1.0)  # towards the mode: more colour; the mean: less
    for original, copy in zip(generator.weights, ab_classes.at_temperature(generator, 0.1).weights):
        np.testing.assert_array_equal(np.asarray(original), np.asarray(copy))
    regressing = build_generator("efficientnet_lite0_unet", image_size=64, seed=0, decoder_filters=(32, 32, 16, 16))
    with pytest.raises(ValueError, match=r"this one regresses ab \(ab_head 'tanh'\)"):
        ab_classes.at_temperature(regressing, 0.5)


def test_a_classifying_generator_exports_to_int8_with_builtin_ops_in_agreement(trained_classifier, tmp_path):
    """The softmax and the annealed mean's matrix product are builtin ops, and int8 agrees with float32."""
    from keras_colorizer.export.graphs import to_gray
    from keras_colorizer.export.report import keras_reference, run_tflite, score
    from keras_colorizer.export.tflite import check_builtin_ops, convert_variants, ops_in

    generator = trained_classifier[0]
    photos = real_crops(12, 64)
    paths = convert_variants(generator, 64, ["int8"], to_gray(photos[:8]), str(tmp_path), {}, progress=lambda _: None)
    check_builtin_ops(paths["int8"])
    assert "SOFTMAX" in ops_in(paths["int8"])
    reference = keras_reference(generator, 64, photos[8:])
    assert reference["ab"].std() > 0.02  # the trained model paints colours, so agreement means something
    assert score(run_tflite(paths["int8"], reference), reference, photos[8:])["agreement_psnr_db"] >= 35.0


def test_ab_head_reaches_the_generator_from_the_training_options(tmp_path):
    from keras_colorizer.run.assemble import build_networks

    options = tiny_options(tmp_path, generator="efficientnet_lite0_unet", ab_head="classes").validate()
    generator, _ = build_networks(options)
    assert generator.ab_head == "classes" and "ab_logits" in [layer.name for layer in generator.layers]
