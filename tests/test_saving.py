"""Models that save and load as Keras does: `.keras` files, registered classes, configs, optimizer state by path."""

import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_colorizer import color
from keras_colorizer.run.checkpoint import CheckpointError, find_checkpoint, load_generator, restore_checkpoint, save_checkpoint
from keras_colorizer.compat import adam_slots
from keras_colorizer.models import PatchGANDiscriminator, QuantizableInstanceNorm, UNetGenerator, build_generator
from keras_colorizer.gan.pix2pix import Pix2Pix
from tests.conftest import real_crops

ARCHITECTURES = [  # both U-Net depths, both norms, both upsamplings, with and without dropout; the encoder family
    ("unet_128", dict(ngf=4, norm="batch")),
    ("unet_256", dict(ngf=2, norm="instance", upsample="resize", dropout=0.0)),
    ("efficientnet_lite0_unet", dict(norm="batch", ab_head="classes", decoder_filters=(16, 16, 8, 8), global_context=True)),
]
FAMILIES = ["UNetGenerator", "UNetGenerator", "EncoderUNetGenerator"]


def _compiled(generator, discriminator=None):
    model = Pix2Pix(generator, discriminator or PatchGANDiscriminator(n_layers=2, ndf=4, seed=1))
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, name="g_adam"), d_optimizer=keras.optimizers.Adam(1e-3, name="d_adam"))
    model.build_optimizers()
    return model


def _moving_statistics(generator):
    return [np.array(v) for v in generator.non_trainable_variables if "moving" in v.path]


def _one_step(model, size=64):
    import tensorflow as tf

    crops = real_crops(2, size)
    model.fit(tf.data.Dataset.from_tensors(crops).repeat(), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)


def test_generator_keras_loads_in_a_fresh_python_with_only_the_package_imported(tmp_path):
    """For every architecture and norm: `keras.saving.load_model` on a checkpoint's generator.keras."""
    l_norm = np.linspace(-1, 1, 2 * 256 * 256, dtype=np.float32).reshape(2, 256, 256, 1)
    np.save(tmp_path / "l.npy", l_norm)
    expected = {}
    for i, (name, settings) in enumerate(ARCHITECTURES):
        generator = build_generator(name, image_size=256, seed=i, **settings)
        model = _compiled(generator)
        # Batch norm's moving statistics move away from their initial values (a forward pass in training
        # mode moves them; a whole training step would add tracing the discriminator and both optimizers).
        moved = _moving_statistics(generator)
        generator(color.rgb_to_network(real_crops(2, 256))[0], training=True)
        assert settings["norm"] == "instance" or not all(np.array_equal(a, b) for a, b in zip(moved, _moving_statistics(generator)))
        checkpoint = save_checkpoint(model, str(tmp_path / f"run{i}"), 1, {"note": "test"})
        expected[checkpoint] = np.asarray(generator(l_norm, training=False))
    script = (
        "import json, sys, numpy as np, keras, keras_colorizer\n"
        "l = np.load(sys.argv[1])\n"
        "for i, path in enumerate(json.loads(sys.argv[2])):\n"
        "    g = keras.saving.load_model(path + '/generator.keras')\n"
        "    np.save(f'{sys.argv[3]}/out{i}.npy', np.asarray(g(l, training=False)))\n"
        "    print(type(g).__name__, g.image_size, g.norm)\n"
    )
    paths = list(expected)
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "l.npy"), json.dumps(paths), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split()[2] for line in lines] == [s["norm"] for _, s in ARCHITECTURES]
    assert [line.split()[:2] for line in lines] == [[family, "256"] for family in FAMILIES]
    for i, path in enumerate(paths):
        np.testing.assert_allclose(np.load(tmp_path / f"out{i}.npy"), expected[path], atol=1e-6)


def test_config_round_trips_and_rebuilds_the_same_architecture():
    generator = UNetGenerator(levels=4, ngf=8, norm="instance", dropout=0.25, upsample="resize", image_size=64, seed=7)
    copy = UNetGenerator.from_config(generator.get_config())
    assert copy.get_config() == generator.get_config()
    assert [w.shape for w in copy.weights] == [w.shape for w in generator.weights]
    # Same seed, same initial weights; no global random state involved.
    for a, b in zip(copy.get_weights(), generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = UNetGenerator(levels=4, ngf=8, norm="instance", dropout=0.25, upsample="resize", image_size=64, seed=8)
    assert not np.array_equal(other.get_layer("down2_conv").kernel.numpy(), generator.get_layer("down2_conv").kernel.numpy())
    discriminator = PatchGANDiscriminator(n_layers=2, ndf=4, norm="instance", seed=3)
    assert PatchGANDiscriminator.from_config(discriminator.get_config()).get_config() == discriminator.get_config()


def test_synchronized_norm_is_a_training_setting_not_saved(tmp_path):
    generator = UNetGenerator(levels=3, ngf=4, synchronized_norm=True, seed=0)
    assert generator.get_layer("down2_norm").synchronized
    generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    assert not loaded.get_layer("down2_norm").synchronized


@pytest.mark.parametrize(
    "arguments,message",
    [
        (dict(levels=1), "Received: levels=1"),
        (dict(ngf=0), "Received: ngf=0"),
        (dict(norm="layer"), "Received: norm='layer'"),
        (dict(upsample="bicubic"), "Received: upsample='bicubic'"),
        (dict(dropout=1.0), "Received: dropout=1.0"),
        (dict(image_size=0), "Received: image_size=0"),
    ],
)
def test_bad_generator_arguments_name_the_value(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        UNetGenerator(**{"levels": 3, "ngf": 4, **arguments})


def test_quantizable_instance_norm_round_trips_through_keras(tmp_path):
    """The export's instance norm (int8-friendly ops) is a registered layer: saved and loaded, it normalizes
    exactly as Keras' `GroupNormalization(groups=-1)` with the same weights."""
    inputs = keras.Input((16, 16, 8))
    quantizable = QuantizableInstanceNorm(groups=-1, epsilon=1e-5)
    quantizable.build((None, 16, 16, 8))
    quantizable.gamma.assign(np.linspace(0.5, 1.5, 8))
    quantizable.beta.assign(np.linspace(-0.2, 0.2, 8))
    model = keras.Model(inputs, quantizable(inputs))
    model.save(tmp_path / "norm.keras")
    loaded = keras.saving.load_model(tmp_path / "norm.keras")
    assert isinstance(loaded.layers[-1], QuantizableInstanceNorm)
    reference = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
    reference.build((None, 16, 16, 8))
    reference.set_weights(quantizable.get_weights())
    x = np.random.default_rng(0).normal(0.3, 2.0, (2, 16, 16, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(reference(x)), atol=1e-5)


def test_pix2pix_config_round_trips_and_the_training_size_is_the_generators():
    model = Pix2Pix(UNetGenerator(levels=3, ngf=4, seed=0, image_size=64), PatchGANDiscriminator(n_layers=2, ndf=4, seed=1),
                    encoding="lab8")
    assert "image_size" not in model.get_config()
    copy = Pix2Pix.from_config(model.get_config())
    assert copy.encoding == "lab8" and copy.image_size == copy.generator.image_size == 64
    older = Pix2Pix.from_config({**model.get_config(), "image_size": 64})  # as versions before issue 36 saved it
    assert older.image_size == 64
    assert copy.generator.get_config() == model.generator.get_config()
    assert copy.discriminator.get_config() == model.discriminator.get_config()


@pytest.mark.parametrize("argument", ["loss", "metrics", "optimizer"])
def test_pix2pix_compile_refuses_what_it_would_ignore(argument):
    model = Pix2Pix(UNetGenerator(levels=3, ngf=4), PatchGANDiscriminator(n_layers=2, ndf=4))
    adam = keras.optimizers.Adam
    with pytest.raises(ValueError, match=f"Received: {argument}"):
        model.compile(g_optimizer=adam(), d_optimizer=adam(), **{argument: "mae"})


def test_pix2pix_compile_takes_the_research_terms_as_one_object():
    from keras_colorizer.gan.losses import ExtraLosses

    model = Pix2Pix(UNetGenerator(levels=3, ngf=4), PatchGANDiscriminator(n_layers=2, ndf=4))
    adam = keras.optimizers.Adam
    with pytest.raises(ValueError, match=r"Pass lambda_temporal as extra_losses=ExtraLosses\(\.\.\.\)"):
        model.compile(g_optimizer=adam(), d_optimizer=adam(), lambda_temporal=1.0)
    model.compile(g_optimizer=adam(), d_optimizer=adam(), extra_losses=ExtraLosses(lambda_temporal=2.0, temporal_shift=8))
    assert (model.lambda_temporal, model.temporal_shift, model.ab_weights) == (2.0, 8, None) and "g_temporal" in model.trackers
    model.compile(g_optimizer=adam(), d_optimizer=adam())
    assert model.lambda_temporal == 0.0 and model.lambda_l1 == 100.0


def test_optimizer_state_restores_by_variable_path_whatever_the_order(tmp_path):
    """Adam's two moments have equal shapes: restored by position, a reordering would swap them silently."""
    model = _compiled(UNetGenerator(levels=3, ngf=4, seed=0))
    _one_step(model)
    _one_step(model)
    checkpoint = save_checkpoint(model, str(tmp_path / "run"), 1, {})

    generator = UNetGenerator(levels=3, ngf=4, seed=5)
    discriminator = PatchGANDiscriminator(n_layers=2, ndf=4, seed=6)
    restored = Pix2Pix(generator, discriminator)
    restored.compile(g_optimizer=keras.optimizers.Adam(1e-3, name="g_adam"), d_optimizer=keras.optimizers.Adam(1e-3, name="d_adam"))
    # The optimizers' variables created in the reverse order of the networks' variables.
    restored.g_optimizer.build(list(reversed(generator.trainable_variables)))
    restored.d_optimizer.build(list(reversed(discriminator.trainable_variables)))
    restore_checkpoint(restored, checkpoint)
    for old, new in ((model.g_optimizer, restored.g_optimizer), (model.d_optimizer, restored.d_optimizer)):
        originals = {v.path: v for v in (model.generator.trainable_variables + model.discriminator.trainable_variables)}
        for variable in new._trainable_variables:  # noqa: SLF001 - the variables it was built for
            m_new, v_new = adam_slots(new, variable)
            m_old, v_old = adam_slots(old, originals[variable.path])
            np.testing.assert_array_equal(m_new.numpy(), m_old.numpy())
            np.testing.assert_array_equal(v_new.numpy(), v_old.numpy())
            assert not np.array_equal(m_new.numpy(), v_new.numpy())


def test_checkpoints_of_earlier_versions_still_load(tmp_path, trained_run):
    """Weights in .weights.h5 and optimizer variables by position: read once through the run's options."""
    import shutil

    from keras_colorizer.run.assemble import build_model
    from keras_colorizer.run.options import TrainOptions
    from keras_colorizer.inference import Colorizer

    source = find_checkpoint(trained_run.run_dir)
    old = tmp_path / "old" / "checkpoints" / os.path.basename(source)
    shutil.copytree(source, old)
    for name in ("generator", "discriminator"):
        network = keras.saving.load_model(old / f"{name}.keras")
        network.save_weights(old / f"{name}.weights.h5")
        os.remove(old / f"{name}.keras")
    saved = dict(np.load(old / "optimizers.npz"))
    model = trained_run.model
    positional = {}
    for prefix, optimizer in (("g", model.g_optimizer), ("d", model.d_optimizer)):
        positional.update({f"{prefix}/{i}": saved[f"{prefix}/{v.path}"] for i, v in enumerate(optimizer.variables)})
    np.savez(old / "optimizers.npz", **positional)
    state = json.loads((old / "state.json").read_text())
    state["options"]["preset"] = state["options"].pop("generator")  # the option's old name
    (old / "state.json").write_text(json.dumps(state))

    generator = load_generator(str(old))
    l_norm = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(1, 64, 64, 1)
    np.testing.assert_allclose(np.asarray(generator(l_norm)), np.asarray(model.generator(l_norm)), atol=1e-6)
    assert Colorizer.load(tmp_path / "old").image_size == 64
    options = TrainOptions.from_dict(state["options"])
    rebuilt = build_model(options, "rgb", steps_per_epoch=2)
    restore_checkpoint(rebuilt, str(old))
    for a, b in zip(rebuilt.g_optimizer.variables, model.g_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_generator_file_that_is_not_one_is_a_checkpoint_error(tmp_path, trained_run):
    import shutil

    copy = tmp_path / "ckpt"
    shutil.copytree(find_checkpoint(trained_run.run_dir), copy)
    (copy / "generator.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="generator.keras is damaged \\(not a complete .keras file\\)"):
        load_generator(str(copy))


def test_a_generator_whose_file_names_modules_that_moved_still_loads(tmp_path):
    """`.keras` files name the module of their class (the package was regrouped by the flow on 2026-12-06, and
    may be again). Keras finds our classes by their registered names (`keras_colorizer>...`), so a file whose
    module names are all stale loads, in a fresh Python, and colours the same. (The shipped preset, written
    before the regrouping, loads in tests/test_presets.py.)"""
    import zipfile

    generator = build_generator("efficientnet_lite0_unet", image_size=64, encoder_weights="none", ab_head="classes")
    new = tmp_path / "new.keras"
    generator.save(new)
    old = tmp_path / "old.keras"
    with zipfile.ZipFile(new) as source, zipfile.ZipFile(old, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                text, stale = re.subn(r'"module": "keras_colorizer[.\w]*"', '"module": "keras_colorizer.moved_away"', data.decode())
                assert stale >= 1
                data = text.encode()
            target.writestr(item, data)
    l_norm = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(1, 64, 64, 1)
    np.save(tmp_path / "l.npy", l_norm)
    script = ("import sys, numpy as np, keras, keras_colorizer\n"
              "g = keras.saving.load_model(sys.argv[1])\n"
              "np.save(sys.argv[2], np.asarray(g(np.load(sys.argv[3]), training=False)))\n")
    result = subprocess.run([sys.executable, "-c", script, str(old), str(tmp_path / "out.npy"), str(tmp_path / "l.npy")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), np.asarray(generator(l_norm, training=False)), atol=1e-6)
