"""The TensorFlow and the JAX training step, checked against each other on one step from the same state."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO, real_crops

pytest.importorskip("jax", reason="the JAX backend is a test dependency (pip install -e '.[test]')")

LR = 1e-2
FAMILIES = ("unet", "classes", "frozen")


def _write_case(folder, family):
    """The networks, the batch and the loss settings of one case, as the step worker reads them."""
    import keras_colorizer  # noqa: F401
    from keras_colorizer.run.assemble import freeze_encoder
    from keras_colorizer.models import PatchGANDiscriminator, UNetGenerator, build_generator

    folder.mkdir()
    if family == "unet":
        generator = UNetGenerator(levels=3, ngf=8, dropout=0.0, seed=3)
        # With the U-Net the video consistency term joins the generator's loss (`--lambda-temporal`) and the
        # discriminator sees noisy ab (`--d-noise`), real and generated in one batch (`--d-batch joint`); the
        # classifying generator's step runs without them.
        (folder / "lambda_temporal.txt").write_text("10")
        rng = np.random.default_rng(5)
        (folder / "d_batch.txt").write_text("joint")
        np.savez(folder / "d_noise.npz", **{k: rng.normal(0, 0.1, (2, 64, 64, 2)).astype("float32") for k in ("real", "fake")})
    elif family == "classes":  # the ImageNet encoder with ab bin logits: the classification loss's gradient joins the GAN's
        generator = build_generator("efficientnet_lite0_unet", ab_head="classes", decoder_filters=(16, 16, 8, 8), seed=3)
    else:  # the default: the ImageNet encoder non-trainable (`--encoder-lr-scale 0`), only the decoder learns
        generator = build_generator("efficientnet_lite0_unet", decoder_filters=(16, 16, 8, 8), seed=3)
        freeze_encoder(generator)
    discriminator = PatchGANDiscriminator(n_layers=2, ndf=8, seed=4)
    encoder = set(getattr(generator, "encoder_layer_names", ()))  # ImageNet's weights are left as they are
    for network in (generator, discriminator):
        for variable in network.trainable_variables:
            if "kernel" in variable.path and variable.path.split("/")[0] not in encoder:
                variable.assign(variable.numpy() * 5.0)
    generator.save(folder / "generator.keras")
    in_encoder = {w.path: w.path.split("/")[0] in encoder for w in generator.weights}
    np.savez(folder / "encoder.npz", **{w.path: w.numpy() for w in generator.weights if in_encoder[w.path]})
    np.savez(folder / "decoder.npz", **{w.path: w.numpy() for w in generator.weights if not in_encoder[w.path]})
    discriminator.save(folder / "discriminator.keras")
    np.savez(folder / "batch.npz", images=real_crops(2, 64))


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """{(backend, family): the weights and optimizer variables after one step}: one process per backend."""
    root = tmp_path_factory.mktemp("steps")
    for family in FAMILIES:
        _write_case(root / family, family)
    values = {"root": root}
    for backend in ("tensorflow", "jax"):
        cases = [arg for family in FAMILIES for arg in ("--case", str(root / family), str(root / f"{family}-{backend}.npz"))]
        env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
        env.update(KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
        result = subprocess.run([sys.executable, "-m", "tests.step_worker", *cases, "--lr", str(LR)],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        for family in FAMILIES:
            values[backend, family] = np.load(root / f"{family}-{backend}.npz")
            assert str(values[backend, family]["backend"]) == backend
    return values


@pytest.mark.parametrize("family", FAMILIES)
def test_tensorflow_and_jax_steps_make_the_same_update(steps, family):
    """One step of each backend's `train_step`, from the same weights, batch and seed, dropout off.

    The networks' kernels start 5x the paper's N(0, 0.02): at the paper's
    scale the features are so small that batch norm amplifies float32
    rounding in the variance's gradient, where the backends differ (JAX's
    variance differentiates through the batch mean, TensorFlow's does not;
    the term is exactly zero, its rounding is not). The learning rate is
    high (1e-2) so that the discriminator's update visibly changes the
    generator's gradient: a step that updated the generator against the old
    discriminator would fail here.

    Tolerances, measured 3-7e-6 for the moments and 1.3e-5 for the second
    moments on an AVX2 CPU, up to 7e-4 on an AVX-512 one (the classifying
    head's first encoder layer): first moments (0.5 x the gradient, so every
    gradient) within 2e-3 of each tensor's largest value; second moments within 2e-3
    (TensorFlow's fused Adam kernel forms 1 - beta_2 from float32(0.999),
    1.3e-5 away from Keras' Adam). Weights: Adam's first step is about
    lr * sign(gradient), so a weight whose gradient is within rounding of
    zero may move anywhere in (-lr, lr); all weights within 0.1 lr, and
    99.9% of them within 1e-6.
    """
    tf_values, jax_values = steps["tensorflow", family], steps["jax", family]
    keys = [k for k in tf_values.files if k != "backend"]
    assert sorted(keys) == sorted(k for k in jax_values.files if k != "backend")
    moments = [k for k in keys if k.endswith("_momentum")]
    velocities = [k for k in keys if k.endswith("_velocity")]
    weights = [k for k in keys if k.startswith(("g/", "d/"))]
    assert len(moments) == len(velocities) > 20 and len(weights) > 30

    for key in moments + velocities:
        a, b = tf_values[key], jax_values[key]
        assert np.abs(a).max() > 0, key  # every trainable variable got a gradient
        # 2e-3 of the largest entry: on an AVX-512 CPU the classifying head's first encoder layer differed by up to
        # 7e-4 of it (TF's oneDNN against XLA's kernels, 2026-12-06; 1e-4 held on AVX2); a wrong gradient is off by far more.
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-3 * np.abs(a).max(), err_msg=key)
    differences = np.concatenate([np.abs(tf_values[k] - jax_values[k]).ravel() for k in weights])
    assert differences.max() <= 0.1 * LR
    assert np.mean(differences <= 1e-6) >= 0.999
    assert int(tf_values["g_opt/g_adam/iteration"]) == int(jax_values["g_opt/g_adam/iteration"]) == 1
    assert int(tf_values["d_opt/d_adam/iteration"]) == int(jax_values["d_opt/d_adam/iteration"]) == 1


def test_a_frozen_encoder_is_left_alone_by_both_backends(steps):
    """The default generator (`--encoder-lr-scale 0`): its encoder is non-trainable, so on either backend a
    step gives it no optimizer slots and leaves its weights and batch norm statistics exactly ImageNet's,
    while the decoder learns."""
    encoder = np.load(steps["root"] / "frozen" / "encoder.npz")
    decoder = np.load(steps["root"] / "frozen" / "decoder.npz")
    assert len(encoder.files) > 100 and len(decoder.files) > 20
    for backend in ("tensorflow", "jax"):
        after = steps[backend, "frozen"]
        for key in encoder.files:
            np.testing.assert_array_equal(after[f"g/{key}"], encoder[key], err_msg=f"{backend}: {key}")
        layers = {key.split("/")[0] for key in encoder.files}
        g_slots = [k.split("/")[-1] for k in after.files if k.startswith("g_opt/") and k.endswith("_momentum")]
        assert any(s.startswith("dec") for s in g_slots), g_slots  # slots are named after their layer
        assert not [s for s in g_slots if any(s.startswith(f"{layer}_") for layer in layers)], backend
        moved = [key for key in decoder.files if not np.array_equal(after[f"g/{key}"], decoder[key])]
        assert len(moved) >= 0.5 * len(decoder.files), backend
