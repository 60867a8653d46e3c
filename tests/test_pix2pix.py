import math
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_colorizer import color
from keras_colorizer.run.checkpoint import CheckpointError, find_checkpoint, read_options, read_state
from keras_colorizer.models import PatchGANDiscriminator, UNetGenerator
from keras_colorizer.gan.losses import gan_loss
from keras_colorizer.metrics import psnr
from keras_colorizer.gan.pix2pix import Pix2Pix
from keras_colorizer.gan.schedules import ConstantThenLinearDecay
from keras_colorizer.run.assemble import build_model
from keras_colorizer.run.training import train
from tests.conftest import call_main, tiny_options
from tests.conftest import real_crops


def test_gan_losses_on_known_logits():
    logits = np.zeros((2, 4, 4, 1), "float32")
    assert float(gan_loss(logits, True, "vanilla")) == pytest.approx(math.log(2), rel=1e-5)
    assert float(gan_loss(logits + 3.0, False, "lsgan")) == pytest.approx(9.0)
    assert float(gan_loss(logits + 1.0, True, "lsgan")) == pytest.approx(0.0)


def test_psnr_of_a_known_error():
    a = np.zeros((1, 4, 4, 3), "float32")
    scores = psnr(a, a + 0.1, max_value=1.0)
    assert tuple(scores.shape) == (1,) and float(scores[0]) == pytest.approx(20.0, rel=1e-4)


def test_schedule_is_constant_then_linear_to_zero():
    schedule = ConstantThenLinearDecay(2e-4, constant_steps=10, decay_steps=10)
    values = [float(schedule(step)) for step in (0, 9, 10, 15, 20, 30)]
    np.testing.assert_allclose(values, [2e-4, 2e-4, 2e-4, 1e-4, 0.0, 0.0], atol=1e-9)
    restored = ConstantThenLinearDecay.from_config(schedule.get_config())
    assert float(restored(15)) == pytest.approx(1e-4)


def test_short_training_lowers_l1_on_real_photo_crops():
    keras.utils.set_random_seed(0)
    crops = real_crops(4, 64)
    generator = UNetGenerator(levels=4, ngf=16, dropout=0.0)
    model = Pix2Pix(generator, PatchGANDiscriminator(n_layers=2, ndf=8))
    adam = lambda: keras.optimizers.Adam(1e-3, beta_1=0.5)  # noqa: E731
    model.compile(g_optimizer=adam(), d_optimizer=adam())

    def l1():
        l_norm, ab_norm = color.rgb_to_network(crops)
        return float(ops.mean(ops.abs(generator(l_norm, training=False) - ab_norm)))

    before = l1()
    dataset = tf.data.Dataset.from_tensor_slices(crops).repeat().batch(4)
    history = model.fit(dataset, epochs=1, steps_per_epoch=120, verbose=0, shuffle=False)
    after = l1()
    assert set(history.history) >= {"d_loss", "d_real", "d_fake", "g_gan", "g_l1"}
    assert after <= 0.7 * before, f"L1 {before:.4f} -> {after:.4f}"


def test_train_step_updates_both_networks_and_both_optimizers():
    crops = real_crops(2, 64)
    model = Pix2Pix(UNetGenerator(levels=3, ngf=4), PatchGANDiscriminator(n_layers=2, ndf=4))
    model.compile(g_optimizer=keras.optimizers.Adam(2e-4), d_optimizer=keras.optimizers.Adam(2e-4))
    g0 = model.generator.get_layer("down1_conv").kernel.numpy().copy()
    d0 = model.discriminator.get_layer("conv1").kernel.numpy().copy()
    model.fit(tf.data.Dataset.from_tensors(crops).repeat(), epochs=1, steps_per_epoch=3, verbose=0, shuffle=False)
    assert int(model.g_optimizer.iterations.numpy()) == 3
    assert int(model.d_optimizer.iterations.numpy()) == 3
    assert not np.allclose(g0, model.generator.get_layer("down1_conv").kernel.numpy())
    assert not np.allclose(d0, model.discriminator.get_layer("conv1").kernel.numpy())


def _one_step_discriminator(d_noise, crops, d_batch="separate"):
    """The model and its discriminator's first kernel after one step from fixed weights, with `d_noise` on what it sees."""
    keras.utils.set_random_seed(1)
    model = Pix2Pix(UNetGenerator(levels=3, ngf=4, dropout=0.0, seed=1), PatchGANDiscriminator(n_layers=2, ndf=4, seed=2))
    model.compile(g_optimizer=keras.optimizers.SGD(1.0), d_optimizer=keras.optimizers.SGD(1.0), d_noise=d_noise,
                  d_batch=d_batch)
    model.fit(tf.data.Dataset.from_tensors(crops).repeat(), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    return model, model.discriminator.get_layer("conv1").kernel.numpy()


def test_discriminator_noise_has_its_spread_is_seeded_and_reaches_the_discriminator():
    crops = real_crops(2, 64)
    quiet, quiet_kernel = _one_step_discriminator(0.0, crops)
    assert quiet.discriminator_noise((2, 64, 64, 2)) is None
    noisy, noisy_kernel = _one_step_discriminator(0.3, crops)
    _, again_kernel = _one_step_discriminator(0.3, crops)
    np.testing.assert_array_equal(noisy_kernel, again_kernel)  # the draws follow the model's seed
    assert not np.allclose(quiet_kernel[:, :, 1:, :], noisy_kernel[:, :, 1:, :])  # its ab inputs' weights learnt from other ab
    real_noise, fake_noise = (ops.convert_to_numpy(n) for n in noisy.discriminator_noise((4, 64, 64, 2)))
    for noise in (real_noise, fake_noise):
        assert abs(noise.mean()) < 0.01 and noise.std() == pytest.approx(0.3, rel=0.03)
    assert abs(np.corrcoef(real_noise.ravel(), fake_noise.ravel())[0, 1]) < 0.02  # drawn apart
    with pytest.raises(ValueError, match="d_noise must be in"):
        quiet.compile(g_optimizer=keras.optimizers.SGD(1.0), d_optimizer=keras.optimizers.SGD(1.0), d_noise=-0.1)


def test_a_joint_batch_shows_the_discriminator_real_and_generated_pairs_together():
    l_norm, ab_real = (ops.convert_to_numpy(t) for t in color.rgb_to_network(real_crops(2, 64)))
    ab_fake = 0.5 * ab_real
    for d_batch, sizes in (("joint", [4]), ("separate", [2, 2])):
        model = Pix2Pix(UNetGenerator(levels=3, ngf=4), PatchGANDiscriminator(n_layers=2, ndf=4))
        model.compile(g_optimizer=keras.optimizers.SGD(1.0), d_optimizer=keras.optimizers.SGD(1.0), d_batch=d_batch)
        seen = []

        def discriminate(pairs):  # each pair's mean |ab| stands in for the discriminator's logits
            seen.append(int(pairs[0].shape[0]))
            return ops.mean(ops.abs(pairs[1]), axis=(1, 2, 3))

        real_logits, fake_logits = model.judge(discriminate, l_norm, ab_real, ab_fake)
        assert seen == sizes, d_batch
        np.testing.assert_allclose(ops.convert_to_numpy(real_logits), np.abs(ab_real).mean(axis=(1, 2, 3)), rtol=1e-6)
        np.testing.assert_allclose(ops.convert_to_numpy(fake_logits), np.abs(ab_fake).mean(axis=(1, 2, 3)), rtol=1e-6)
        fooled = model.judge_generated(discriminate, l_norm, ab_real, ab_fake)
        assert seen[len(sizes):] == sizes[-1:], d_batch  # the generator's pairs keep the company they had
        np.testing.assert_allclose(ops.convert_to_numpy(fooled), np.abs(ab_fake).mean(axis=(1, 2, 3)), rtol=1e-6)
    # In a real step the discriminator's batch norm then sees one batch of 4 per update, not two of 2.
    crops = real_crops(2, 64)
    model, _ = _one_step_discriminator(0.0, crops)
    joint, _ = _one_step_discriminator(0.0, crops, d_batch="joint")
    moving = lambda m: m.discriminator.get_layer("conv2_norm").moving_mean.numpy()  # noqa: E731
    assert not np.allclose(moving(model), moving(joint))
    with pytest.raises(ValueError, match="Unknown d_batch"):
        model.compile(g_optimizer=keras.optimizers.SGD(1.0), d_optimizer=keras.optimizers.SGD(1.0), d_batch="mixed")


def test_validation_reports_l1_and_psnr():
    crops = real_crops(2, 64)
    model = Pix2Pix(UNetGenerator(levels=3, ngf=4), PatchGANDiscriminator(n_layers=2, ndf=4))
    model.compile(g_optimizer=keras.optimizers.Adam(2e-4), d_optimizer=keras.optimizers.Adam(2e-4))
    scores = model.evaluate(tf.data.Dataset.from_tensors(crops), return_dict=True, verbose=0)
    assert set(scores) == {"l1", "psnr"}
    assert 0 < scores["l1"] < 1 and 5 < scores["psnr"] < 60


def _weights(model):
    return [v.numpy() for v in model.generator.weights + model.discriminator.weights]


def _restore_model(options, run_dir):
    from keras_colorizer.run.checkpoint import restore_checkpoint

    model = build_model(options, "rgb", options.steps_per_epoch)
    restore_checkpoint(model, find_checkpoint(run_dir))
    return model


def test_resume_continues_exactly_like_an_unbroken_run(tmp_path):
    # With colour rebalancing: its weights are counted again from the photos on resume, and must come out the same.
    # With the consistency term and the discriminator's noise: the resumed run must draw the crop offsets and the
    # noise the unbroken one drew at the same steps.
    options = dict(jitter=False, dropout=0.0, epochs=4, steps_per_epoch=2, val_split=0.3, rebalance=0.5, lambda_temporal=10.0,
                   d_noise=0.1)
    straight = train(tiny_options(tmp_path, name="straight", **options), verbose=0)
    first = train(tiny_options(tmp_path, name="parts", **options), max_steps=3, verbose=0)
    assert first.steps == 3 and read_state(first.checkpoint)["step"] == 3
    resumed = train(resume=first.run_dir, verbose=0)
    assert resumed.steps == straight.steps == 8
    np.testing.assert_array_equal(resumed.model.ab_weights, straight.model.ab_weights)
    np.testing.assert_array_equal(resumed.model.film_seeds.state.numpy(), straight.model.film_seeds.state.numpy())

    opts = tiny_options(tmp_path, **options)
    a = _restore_model(opts, straight.run_dir)
    b = _restore_model(opts, resumed.run_dir)
    for x, y in zip(_weights(a), _weights(b)):
        np.testing.assert_allclose(x, y, atol=1e-5)
    for opt_a, opt_b in ((a.g_optimizer, b.g_optimizer), (a.d_optimizer, b.d_optimizer)):
        assert int(opt_a.iterations.numpy()) == int(opt_b.iterations.numpy()) == 8
        for x, y in zip(opt_a.variables, opt_b.variables):
            np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-5)
    assert float(a.g_optimizer.learning_rate) == pytest.approx(float(b.g_optimizer.learning_rate))


def test_a_resumed_run_may_change_its_loss_weights_and_records_them(tmp_path, capsys):
    options = dict(jitter=False, dropout=0.0, epochs=1, steps_per_epoch=2, val_split=0.3, lambda_l1=100.0)
    first = train(tiny_options(tmp_path, name="first", **options), verbose=0)
    shutil.copytree(first.run_dir, tmp_path / "kept")
    shutil.copytree(first.run_dir, tmp_path / "changed")
    kept = train(resume=str(tmp_path / "kept"), changes={"epochs": 2}, verbose=0)
    code, stdout, err = call_main(
        "keras_colorizer.cli.train",
        ["--resume", str(tmp_path / "changed"), "--epochs", "2", "--lambda-l1", "10", "--rebalance", "0.5", "--d-noise", "0.2",
         "--d-batch", "joint", "--quiet"], capsys,
    )
    assert code == 0, err[-2000:]
    assert "From step 2 on: --lambda-l1 10 (was 100)" in stdout and "--rebalance 0.5 (was 0)" in stdout
    assert "--d-noise 0.2 (was 0)" in stdout and "--d-batch joint (was separate)" in stdout
    changed_checkpoint = find_checkpoint(str(tmp_path / "changed"))
    assert read_state(changed_checkpoint)["step"] == kept.steps == 4
    # Each checkpoint keeps the weights it was trained under.
    assert read_options(changed_checkpoint).lambda_l1 == 10.0 and read_options(changed_checkpoint).rebalance == 0.5
    assert read_options(changed_checkpoint).d_noise == 0.2 and read_options(first.checkpoint).d_noise == 0.0
    assert read_options(changed_checkpoint).d_batch == "joint" and read_options(first.checkpoint).d_batch == "separate"
    assert read_options(first.checkpoint).lambda_l1 == 100.0 and read_options(first.checkpoint).rebalance == 0.0
    # The same start and steps: the runs resume exactly (test above), so only the new weights can make them differ.
    opts = tiny_options(tmp_path, **options)
    differ = [not np.allclose(a, b, atol=1e-5) for a, b in
              zip(_restore_model(opts, kept.run_dir).generator.get_weights(),
                  _restore_model(opts, str(tmp_path / "changed")).generator.get_weights())]
    assert any(differ)


class PoisonGenerator(keras.callbacks.Callback):
    """Make the generator's weights NaN when the second epoch starts."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            kernel = self.model.generator.get_layer("down1_conv").kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    result = train(tiny_options(tmp_path, epochs=3), extra_callbacks=[PoisonGenerator()], verbose=0)
    assert result.diverged and "nan" in result.diverged.lower()
    assert result.steps < 6
    checkpoint = find_checkpoint(result.run_dir)
    assert read_state(checkpoint)["step"] == 2  # the end of the first, good epoch
    model = _restore_model(tiny_options(tmp_path, epochs=3), result.run_dir)
    assert all(np.isfinite(w).all() for w in _weights(model))


def test_a_save_that_dies_halfway_leaves_the_good_checkpoint(tmp_path, trained_run):
    good = find_checkpoint(trained_run.run_dir)
    run_dir = tmp_path / "run"
    os.makedirs(run_dir / "checkpoints")
    import shutil

    shutil.copytree(good, run_dir / "checkpoints" / os.path.basename(good))
    # A save interrupted after writing part of its files leaves only a temporary folder.
    half = run_dir / "checkpoints" / ".tmp-step-0000099-123"
    os.makedirs(half)
    (half / "generator.keras").write_bytes(b"truncated")
    assert find_checkpoint(run_dir) == str(run_dir / "checkpoints" / os.path.basename(good))


def test_checkpoint_of_another_architecture_is_refused(tmp_path, trained_run):
    from keras_colorizer.run.checkpoint import restore_checkpoint

    model = Pix2Pix(UNetGenerator(levels=4, ngf=8), PatchGANDiscriminator(n_layers=2, ndf=8))
    model.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam())
    with pytest.raises(CheckpointError, match="generator.keras: does not fit"):
        restore_checkpoint(model, find_checkpoint(trained_run.run_dir))


def test_l1_warm_up_leaves_the_adversarial_term_out_then_adds_it_and_the_run_keeps_its_latest_two_checkpoints(tmp_path):
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(self.model.gan_weight.numpy()))

    result = train(tiny_options(tmp_path, epochs=3, pretrain_epochs=2), extra_callbacks=[Record()], verbose=0)
    assert seen == [0.0, 0.0, 1.0]
    assert result.steps == 6
    # One checkpoint per epoch, the latest two kept; the run's other files beside them.
    assert sorted(os.listdir(os.path.join(result.run_dir, "checkpoints"))) == ["step-0000004", "step-0000006"]
    for item in ("options.json", "history.csv", "samples/epoch-0003.png", "logs"):
        assert os.path.exists(os.path.join(result.run_dir, item)), item


def test_resize_upsampling_trains_and_validates_through_fit(tmp_path):
    result = train(tiny_options(tmp_path, upsample="resize", val_split=0.3), verbose=0)
    assert result.steps == 2 and "val_psnr" in result.history


def test_training_step_resizes_host_crops_to_the_training_size():
    model = Pix2Pix(UNetGenerator(levels=3, ngf=4, image_size=64), PatchGANDiscriminator(n_layers=2, ndf=4))
    crops = real_crops(2, 100)
    l_norm, ab_norm = model.to_lab(tf.constant(crops))
    assert tuple(l_norm.shape) == (2, 64, 64, 1) and tuple(ab_norm.shape) == (2, 64, 64, 2)
    resized = tf.image.resize(tf.cast(crops, tf.float32), (64, 64), antialias=True) / 255.0
    expected_l, expected_ab = color.rgb_to_network(tf.clip_by_value(resized, 0.0, 1.0))
    np.testing.assert_allclose(np.asarray(l_norm), np.asarray(expected_l), atol=1e-5)
    np.testing.assert_allclose(np.asarray(ab_norm), np.asarray(expected_ab), atol=1e-5)
    same_size = model.to_lab(tf.constant(real_crops(1, 64)))[0]
    np.testing.assert_allclose(np.asarray(same_size), np.asarray(color.rgb_to_network(real_crops(1, 64))[0]), atol=1e-6)


def test_training_leaves_grappler_as_it_found_it(trained_run):
    """The remapper is off only while the step trains (its spurious error), not for the rest of the process."""
    import tensorflow as tf

    assert trained_run.steps > 0
    assert tf.config.optimizer.get_experimental_options().get("remapping", True) is True
