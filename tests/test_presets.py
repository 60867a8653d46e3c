"""The ready-made colorizer shipped in the package: listed, loaded offline, used by `colorize`, exported, fine-tuned."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

import keras_colorizer
from keras_colorizer.errors import UserError
from keras_colorizer.inference import Colorizer
from keras_colorizer.presets import DEFAULT_PRESET, preset_path, preset_setting
from tests.conftest import REPO, call_main, error_lines, real_crops, tiny_options

KODAK = REPO.parent / "shared" / "data" / "dev" / "kodak24"


@pytest.fixture(scope="module")
def preset():
    return Colorizer.from_preset(DEFAULT_PRESET)


@pytest.fixture(scope="module")
def photo():
    """A real colour photo (a built-in one, 200x150) and its gray copy."""
    rgb = real_crops(1, 224)[0][:150, :200]
    return rgb


def chroma(rgb):
    from keras_colorizer import color

    lab = np.asarray(color.rgb_to_lab(rgb.astype(np.float32)[None] / 255.0))[0]
    return np.hypot(lab[..., 1], lab[..., 2])


def test_the_package_lists_its_presets_with_a_model_card():
    presets = keras_colorizer.list_presets()
    assert DEFAULT_PRESET in presets and presets[DEFAULT_PRESET]
    folder = preset_path(DEFAULT_PRESET)
    assert os.path.dirname(folder) == os.path.join(os.path.dirname(keras_colorizer.__file__), "presets")
    card = open(os.path.join(folder, "model_card.md")).read()
    for fact in ("Tiny ImageNet", "terms", "kodak24", "imagenet500", "Known failures"):
        assert fact in card
    assert os.path.getsize(os.path.join(folder, "generator.keras")) <= 15e6
    with pytest.raises(UserError, match=r"nope: no such preset; this install has .*" + DEFAULT_PRESET):
        preset_path("nope")
    with pytest.raises(UserError, match=r"\.\./x: no such preset"):
        preset_path("../x")


def test_a_built_wheel_carries_the_preset(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
                    str(REPO)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("keras_colorizer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for member in ("generator.keras", "state.json", "preset.json", "model_card.md", "colorizer_int8.tflite",
                   "colorizer_int8.json"):
        assert f"keras_colorizer/presets/{DEFAULT_PRESET}/{member}" in names


def test_the_preset_loads_with_no_network_and_nothing_outside_the_package(tmp_path):
    # A fresh process whose sockets all fail and whose Keras home is empty: only the package's own files are read.
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('no network in this test')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "import numpy as np\n"
        "from keras_colorizer.inference import Colorizer\n"
        f"c = Colorizer.from_preset({DEFAULT_PRESET!r})\n"
        "gray = np.tile(np.linspace(0, 255, 96, dtype=np.uint8)[None, :, None], (64, 1, 3))\n"
        "out = c.colorize(gray)\n"
        "print(out.shape, c.image_size)\n"
    )
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras_home"), "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == f"(64, 96, 3) {preset_setting(preset_path(DEFAULT_PRESET), 'network_size')}"
    # Keras writes its settings file there on import; nothing was downloaded into it.
    written = {p.name for p in (tmp_path / "keras_home").rglob("*")} if (tmp_path / "keras_home").exists() else set()
    assert written <= {"keras.json"}


def test_the_preset_colours_a_photo_and_keeps_its_lightness(preset, photo):
    from keras_colorizer import color

    out = preset.colorize(photo)
    assert out.shape == photo.shape
    lightness = lambda rgb: np.asarray(color.rgb_to_lab(rgb.astype(np.float32)[None] / 255.0))[0, ..., 0]  # noqa: E731
    assert np.abs(lightness(out) - lightness(photo)).mean() < 1.0
    assert chroma(out).mean() > 5.0  # colour, not gray


def test_saturation_zero_is_gray_one_is_the_network_and_more_is_stronger(preset, photo):
    from keras_colorizer.evaluate import gray_baseline

    own = Colorizer.from_preset(DEFAULT_PRESET, saturation=1)
    network = Colorizer(preset.generator, preset.image_size, saturation=1.0, detail_size=preset.detail_size)
    plain = own.colorize(photo)
    np.testing.assert_array_equal(plain, network.colorize(photo))
    gray = Colorizer(preset.generator, preset.image_size, saturation=0).colorize(photo)
    assert np.abs(gray.astype(int) - gray_baseline(photo).astype(int)).max() <= 1
    assert np.ptp(gray.astype(int), axis=-1).max() <= 1  # R = G = B
    strong = Colorizer(preset.generator, preset.image_size, saturation=1.5).colorize(photo)
    assert chroma(strong).mean() > 1.2 * chroma(plain).mean()
    with pytest.raises(UserError, match=r"saturation must be a finite number >= 0 .*Received: -1"):
        Colorizer(preset.generator, preset.image_size, saturation=-1)


def test_the_preset_draws_at_its_own_saturation_unless_told_otherwise(preset, photo, tmp_path):
    """The ready-made model's preset.json names the saturation it was measured best at (issue 35's colour
    targets; docs/lab/2026-12-06-tiny-imagenet.md); the loaders use it, the caller's value wins, and a
    preset that names none draws the network's own colour."""
    setting = preset_setting(preset_path(DEFAULT_PRESET), "saturation")
    assert setting > 1 and preset.saturation == setting == Colorizer.load(DEFAULT_PRESET).saturation
    np.testing.assert_array_equal(preset.colorize(photo), Colorizer.from_preset(DEFAULT_PRESET, saturation=1).render(
        preset.predict(photo), setting))
    assert Colorizer.from_preset(DEFAULT_PRESET, saturation=0.5).saturation == 0.5
    folder = tmp_path / "plain_preset"
    shutil.copytree(preset_path(DEFAULT_PRESET), folder)
    settings = json.loads((folder / "preset.json").read_text())
    del settings["saturation"]
    (folder / "preset.json").write_text(json.dumps(settings))
    assert Colorizer.from_preset(str(folder)).saturation == 1.0


def test_a_preset_shows_photos_at_its_own_detail_size_unless_told_otherwise(preset, photo, tmp_path, capsys):
    """A preset's preset.json may name a detail size: the photo's L shrunk to it before the network's side, as
    soft as the photos the network learnt from (Tiny ImageNet's 64-pixel photos at 128). The loaders and
    `colorize` use it unless given another; the network's side is the plain recipe; a size outside 1..side is
    one line."""
    from keras_colorizer.inference import predict_small_ab

    folder = tmp_path / "soft_preset"
    shutil.copytree(preset_path(DEFAULT_PRESET), folder)
    settings = json.loads((folder / "preset.json").read_text())
    (folder / "preset.json").write_text(json.dumps({**settings, "detail_size": 96}))
    soft = Colorizer.from_preset(str(folder))
    side = preset.image_size  # the network's side
    assert soft.detail_size == 96 and Colorizer.load(str(folder)).detail_size == 96 and soft.image_size == side
    saturation = preset.saturation  # the copy keeps the preset's
    np.testing.assert_array_equal(soft.colorize(photo), Colorizer(preset.generator, side, detail_size=96,
                                                                  saturation=saturation).colorize(photo))
    plain = Colorizer.from_preset(str(folder), detail_size=side)
    assert plain.detail_size is None
    np.testing.assert_array_equal(plain.colorize(photo), Colorizer(preset.generator, side, saturation=saturation).colorize(photo))
    assert np.abs(plain.colorize(photo).astype(int) - soft.colorize(photo).astype(int)).mean() > 0.3

    seen = []
    lightness = np.linspace(0.0, 100.0, 300 * 400, dtype=np.float32).reshape(1, 300, 400, 1) % 17.0 * 5.0  # fine stripes
    for detail in (None, 96, 32):
        predict_small_ab(lightness, lambda l_norm: seen.append(np.asarray(l_norm)) or np.zeros((1, 128, 128, 2)), 128,
                         detail_size=detail)
    sharpness = [np.abs(np.diff(l_norm, axis=2)).mean() for l_norm in seen]
    assert sharpness[0] > sharpness[1] > sharpness[2]  # the smaller the detail size, the softer the network's input

    Image.fromarray(photo).save(tmp_path / "photo.png")
    for out, extra, expected in (("soft", [], soft), ("plain", ["--detail-size", str(side)], plain)):
        code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--model", str(folder),
                                                                 "--out", str(tmp_path / out), *extra], capsys)
        assert code == 0, err
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / out / "photo.png")), expected.colorize(photo))
    for bad in ("0", str(side + 1)):
        code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--model", str(folder),
                                                                 "--out", str(tmp_path / "x"), "--detail-size", bad], capsys)
        assert code == 2 and error_lines(err) == [
            f"error: detail size must be a whole number of pixels from 1 to the network's size ({side}). Received: {bad}"]
    assert not (tmp_path / "x").exists()


def test_a_preset_runs_its_network_at_its_own_side_unless_told_otherwise(preset, photo, tmp_path, capsys):
    """A preset's preset.json may name a `network_size`: the ready-made model, trained at 128, runs at 160 (a sharper
    L; measured in docs/lab). Without one a model runs at its training size. `colorize` / `evaluate --network-size`
    and the loaders' `network_size=` choose another; a side its strides do not divide, or a side other than an
    exported file's, is one line and writes nothing. The phone file shipped beside it runs at the same side."""
    own = preset_setting(preset_path(DEFAULT_PRESET), "network_size")
    assert own == preset.image_size == 160 and preset.generator.image_size == 128
    assert preset.predict(photo).ab_small.shape == (1, 160, 160, 2)
    folder = tmp_path / "preset_at_training_size"
    shutil.copytree(preset_path(DEFAULT_PRESET), folder)
    settings = json.loads((folder / "preset.json").read_text())
    (folder / "preset.json").write_text(json.dumps({k: v for k, v in settings.items() if k != "network_size"}))
    at128 = Colorizer.load(str(folder))
    assert at128.image_size == 128 and at128.predict(photo).ab_small.shape == (1, 128, 128, 2)
    told = Colorizer.from_preset(DEFAULT_PRESET, network_size=128)
    np.testing.assert_array_equal(told.colorize(photo), at128.colorize(photo))
    assert np.abs(at128.colorize(photo).astype(int) - preset.colorize(photo).astype(int)).mean() > 0.3

    Image.fromarray(photo).save(tmp_path / "photo.png")
    code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--out", str(tmp_path / "out"),
                                                             "--network-size", "128"], capsys)
    assert code == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "photo.png")), at128.colorize(photo))
    code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--out", str(tmp_path / "x"),
                                                             "--network-size", "150"], capsys)
    assert code == 2 and error_lines(err) == [
        "error: network size must be a positive multiple of 32 pixels for this model (trained at 128). Received: 150"]
    assert not (tmp_path / "x").exists()

    for extra, expected in (([], 160), (["--network-size", "128"], 128)):
        scores = tmp_path / f"scores{expected}"
        code, _, err = call_main("keras_colorizer.cli.evaluate", ["--model", DEFAULT_PRESET, "--data", str(tmp_path / "out"),
                                                                 "--out", str(scores), *extra], capsys)
        assert code == 0, err
        assert json.loads((scores / "summary.json").read_text())["network_size"] == expected

    phone = os.path.join(preset_path(DEFAULT_PRESET), "colorizer_int8.tflite")
    assert Colorizer.load(phone).image_size == Colorizer.load(phone, network_size=160).image_size == 160
    with pytest.raises(UserError, match=r"runs at 160x160 only; network size 128 needs a checkpoint or preset"):
        Colorizer.load(phone, network_size=128)


def test_colorize_with_no_model_uses_the_preset(preset, photo, tmp_path, capsys):
    Image.fromarray(photo).save(tmp_path / "photo.png")
    code, out, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err
    side = preset.image_size
    assert f"Model: {DEFAULT_PRESET} (network at {side}x{side}, saturation {preset.saturation:g})" in out.splitlines()
    written = np.asarray(Image.open(tmp_path / "out" / "photo.png"))
    np.testing.assert_array_equal(written, preset.colorize(photo))
    code, out, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--out", str(tmp_path / "gray"),
                                                               "--saturation", "0"], capsys)
    assert f"Model: {DEFAULT_PRESET} (network at {preset.image_size}x{preset.image_size}, saturation 0)" in out
    assert code == 0 and np.ptp(np.asarray(Image.open(tmp_path / "gray" / "photo.png")).astype(int), axis=-1).max() <= 1
    code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--out", str(tmp_path / "x"),
                                                             "--saturation", "-2"], capsys)
    assert code == 2 and len(error_lines(err)) == 1 and "saturation must be a finite number >= 0" in err
    code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "photo.png"), "--out", str(tmp_path / "x"),
                                                             "--model", "no_such_preset"], capsys)
    assert code == 2 and error_lines(err) == [
        f"error: no_such_preset: no such run, checkpoint or file, and no preset of that name (presets: {DEFAULT_PRESET})"]


def test_export_takes_a_preset_name(tmp_path, preset, photo):
    from keras_colorizer.cli.export import main as export

    code = export([DEFAULT_PRESET, "--out", str(tmp_path / "export"), "--formats", "tflite", "--variants", "float32",
                   "--size", "128"])
    assert code == 0
    report = json.loads((tmp_path / "export" / "report.json").read_text())
    (row,) = [r for r in report if r["artifact"].endswith("float32.tflite")]
    tflite = Colorizer.load(str(tmp_path / "export" / row["artifact"]))
    assert tflite.image_size == preset.image_size  # the preset's own network side, as colorize runs it
    difference = np.abs(tflite.colorize(photo).astype(int) - preset.colorize(photo).astype(int))
    assert difference.mean() < 1.0
    # It names what it came from as the tools take it, not the folder the package is installed in here.
    from keras_colorizer.export.tflite import read_metadata

    assert read_metadata(str(tmp_path / "export" / row["artifact"]))["checkpoint"] == DEFAULT_PRESET


def test_the_shipped_phone_file_names_its_preset_and_no_path_of_the_machine_that_built_it():
    from keras_colorizer.export.tflite import read_metadata

    folder = preset_path(DEFAULT_PRESET)
    embedded = read_metadata(os.path.join(folder, "colorizer_int8.tflite"))
    with open(os.path.join(folder, "colorizer_int8.json")) as f:
        assert json.load(f) == embedded
    assert embedded["checkpoint"] == DEFAULT_PRESET and embedded["variant"] == "int8"
    with open(os.path.join(folder, "state.json")) as f:
        options = json.load(f)["options"]
    values = [item for value in options.values() for item in (value if isinstance(value, list) else [value])]
    assert options["data"] and not [v for v in values if isinstance(v, str) and os.path.isabs(v)]


def test_init_from_starts_at_the_preset_and_resumes_like_any_run(tmp_path):
    import keras

    from keras_colorizer.run.checkpoint import find_checkpoint, load_generator
    from keras_colorizer.run.training import train

    class FirstWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.weights = [w.numpy().copy() for w in self.model.generator.weights]

    first = FirstWeights()
    # No architecture chosen (tiny_options' small U-Net set back to the defaults): the preset's is the run's.
    options = dict(init_from=DEFAULT_PRESET, generator="efficientnet_lite0_unet", levels=None, image_size=None, ngf=32,
                   batch_size=2, epochs=2, steps_per_epoch=1, jitter=False)
    straight = train(tiny_options(tmp_path, name="straight", **options), verbose=0, extra_callbacks=[first])
    shipped = load_generator(preset_path(DEFAULT_PRESET))
    # The preset's architecture and training size, and its weights are the start.
    assert straight.model.generator.__class__ is shipped.__class__ and straight.model.generator.image_size == 128
    for ours, theirs in zip(first.weights, shipped.weights):
        np.testing.assert_array_equal(ours, theirs.numpy())
    parts = train(tiny_options(tmp_path, name="parts", **options), max_steps=1, verbose=0)
    resumed = train(resume=parts.run_dir, verbose=0)
    assert resumed.steps == straight.steps == 2
    a, b = (load_generator(find_checkpoint(r.run_dir)) for r in (straight, resumed))
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-5)


def test_plain_train_starts_from_the_preset_and_any_choice_opts_out(tmp_path, capsys):
    from keras_colorizer.cli.train import build_parser, options_from_args

    def options(*argv):
        return options_from_args(build_parser().parse_args(list(argv)))[1]

    assert options().init_from == DEFAULT_PRESET
    assert options("--epochs", "3", "--out", "x").init_from == DEFAULT_PRESET
    for argv in (["--data", "photos"], ["--generator", "unet_128"], ["--image-size", "224"], ["--init-from", "runs/a"],
                 ["--resume", "runs/a"]):
        assert options(*argv).init_from in (None, "runs/a"), argv
    code, out, err = call_main("keras_colorizer.cli.train", ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2",
                                                            "--samples", "1", "--out", str(tmp_path / "runs"), "--name", "plain"],
                               capsys)
    assert code == 0, err
    assert f"The generator starts from {DEFAULT_PRESET} (" in out
    saved = json.loads((tmp_path / "runs" / "plain" / "options.json").read_text())
    assert saved["init_from"] == DEFAULT_PRESET and saved["image_size"] == 128
