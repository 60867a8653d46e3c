"""Hostile input to training and export: names that leave --out, tampered run folders (issue 38, items 1-3)."""

import json
import shutil

import pytest

from keras_colorizer.run.options import TrainOptions
from tests.conftest import call_main, error_lines, tiny_options

TINY = ["--generator", "unet_128", "--levels", "3", "--ngf", "8", "--ndf", "8", "--n-layers", "2", "--image-size", "64",
        "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "1", "--samples", "1"]


@pytest.mark.parametrize("name", ["../../../elsewhere", "a/b", "..", ".hidden", "", "x" * 101, "sp ace"])
def test_a_run_name_must_be_one_short_path_segment(tmp_path, capsys, name):
    code, _, err = call_main("keras_colorizer.cli.train", ["--name", name, "--out", str(tmp_path / "runs"), *TINY], capsys)
    assert code == 2
    (line,) = error_lines(err)
    assert line.startswith("error: --name must be one path segment") and "Traceback" not in err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("name", ["../x", "x" * 300, ".."])
def test_an_export_model_name_must_be_one_short_path_segment(trained_run, tmp_path, capsys, name):
    code, _, err = call_main("keras_colorizer.cli.export", [trained_run.run_dir, "--out", str(tmp_path / "e"),
                                                             "--model-name", name], capsys)
    assert code == 2 and "--model-name must be one path segment" in err and "Traceback" not in err
    assert not (tmp_path / "e").exists()


TAMPERED = [
    ("epochs", "many", "option 'epochs' holds \"many\", expected an integer"),
    ("ngf", "eight", "option 'ngf' holds \"eight\", expected an integer"),
    ("batch_size", 1e12, "option 'batch_size' holds 1000000000000.0, expected an integer"),
    ("image_size", 2147483648, "--image-size must be at most 8192. Received: 2147483648"),
    ("lr", "fast", "option 'lr' holds \"fast\", expected a number"),
    ("jitter", "yes", "option 'jitter' holds \"yes\", expected true or false"),
    ("data", 7, "option 'data' holds 7, expected a string or null"),
    ("name", "../out", "--name must be one path segment"),
    ("epochs", -3, "--epochs must be at least 1. Received: -3"),
    ("generator", "unet_9000", "--generator must be one of"),
]


@pytest.fixture(scope="module")
def two_step_run(tmp_path_factory):
    from keras_colorizer.run.training import train

    tmp = tmp_path_factory.mktemp("tampered")
    return train(tiny_options(tmp, name="base", epochs=2, steps_per_epoch=1), max_steps=1, verbose=0)


@pytest.mark.parametrize("field,value,message", TAMPERED)
def test_resume_of_a_tampered_checkpoint_names_the_file_and_the_field(two_step_run, tmp_path, capsys, field, value, message):
    run = tmp_path / "run"
    shutil.copytree(two_step_run.run_dir, run)
    (checkpoint,) = (run / "checkpoints").iterdir()
    state_file = checkpoint / "state.json"
    state = json.loads(state_file.read_text())
    state["options"][field] = value
    state_file.write_text(json.dumps(state))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    code, _, err = call_main("keras_colorizer.cli.train", ["--resume", str(run)], capsys)
    assert code == 2 and "Traceback" not in err
    (line,) = error_lines(err)
    assert line.startswith(f"error: {state_file}: ") and message in line
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before  # nothing touched


@pytest.mark.parametrize("field,value,message", TAMPERED[:4])
def test_restart_of_a_tampered_unstarted_run_names_options_json(tmp_path, capsys, field, value, message):
    run = tmp_path / "run"
    run.mkdir()
    values = TrainOptions(**{**tiny_options(tmp_path).to_dict(), "image_size": 64}).to_dict()
    values[field] = value
    (run / "options.json").write_text(json.dumps(values))
    code, _, err = call_main("keras_colorizer.cli.train", ["--resume", str(run)], capsys)
    assert code == 2 and "Traceback" not in err
    (line,) = error_lines(err)
    assert line.startswith(f"error: {run / 'options.json'}: ") and message in line


def test_a_negative_step_in_state_json_is_refused(two_step_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(two_step_run.run_dir, run)
    (checkpoint,) = (run / "checkpoints").iterdir()
    state = json.loads((checkpoint / "state.json").read_text())
    state["step"] = -5
    (checkpoint / "state.json").write_text(json.dumps(state))
    code, _, err = call_main("keras_colorizer.cli.train", ["--resume", str(run)], capsys)
    assert code == 2 and "not a readable checkpoint state" in err and "must be whole numbers >= 0" in err


def test_a_truncated_generator_is_called_damaged_by_colorize_and_resume(two_step_run, tmp_path, capsys):
    from PIL import Image

    from tests.conftest import real_crops

    run = tmp_path / "run"
    shutil.copytree(two_step_run.run_dir, run)
    (checkpoint,) = (run / "checkpoints").iterdir()
    generator = checkpoint / "generator.keras"
    generator.write_bytes(generator.read_bytes()[: generator.stat().st_size // 2])
    Image.fromarray(real_crops(1, 32)[0]).save(tmp_path / "a.png")
    expected = f"error: {generator} is damaged (not a complete .keras file)"
    code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "a.png"), "--model", str(run),
                                                             "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and error_lines(err) == [expected]
    code, _, err = call_main("keras_colorizer.cli.train", ["--resume", str(run)], capsys)
    assert code == 2 and error_lines(err) == [expected]


# --- a full disk (item 4) -------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs of this test's own (root on Linux), removed after it."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill here ({done.stderr.strip() or 'mount failed'})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder):
    """Take every free byte of the file system under `folder`."""
    with open(folder / "filler", "wb", buffering=0) as f:
        for chunk in (65536, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass


def test_training_into_a_full_disk_says_so_and_keeps_the_last_checkpoint(small_disk, capsys):
    from keras_colorizer.run.checkpoint import load_generator

    out = small_disk / "runs"
    args = ["--out", str(out), "--name", "full", *TINY[:-6], "--batch-size", "2", "--samples", "1",
            "--steps-per-epoch", "1"]
    code, _, err = call_main("keras_colorizer.cli.train", [*args, "--epochs", "1"], capsys)
    assert code == 0, err
    (kept,) = (out / "full" / "checkpoints").iterdir()
    fill(small_disk)
    code, _, err = call_main("keras_colorizer.cli.train", ["--resume", str(out / "full"), "--epochs", "3"], capsys)
    assert code == 2 and "Traceback" not in err
    (line,) = error_lines(err)
    assert line.startswith(f"error: {out / 'full'}: the disk is full (No space left on device); training stopped, "
                           f"the last complete checkpoint {kept} is kept")
    assert [p.name for p in (out / "full" / "checkpoints").iterdir()] == [kept.name]  # no half-written one
    assert load_generator(kept) is not None  # whole


def test_export_into_a_full_disk_says_so_and_keeps_the_old_export(trained_run, small_disk, capsys):
    out = small_disk / "export"
    args = [trained_run.run_dir, "--out", str(out), "--formats", "tflite", "--variants", "float32", "--size", "64"]
    code, _, err = call_main("keras_colorizer.cli.export", args, capsys)
    assert code == 0, err
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    fill(small_disk)
    for formats in ("saved_model", "tflite"):
        code, _, err = call_main("keras_colorizer.cli.export", [*args[:3], "--formats", formats, *args[5:], "--overwrite"],
                                 capsys)
        assert code == 2 and "Traceback" not in err
        assert error_lines(err) == [f"error: {small_disk}: the disk is full (No space left on device); "
                                    f"the export already in {out} is kept as it was"]
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
        assert sorted(p.name for p in small_disk.iterdir()) == ["export", "filler"]  # no staging folder left


# --- surprises (issue 36, item 5) ---------------------------------------------------------------


def test_the_ctrl_c_handler_is_restored_when_fit_raises(tmp_path):
    import signal

    import keras

    from keras_colorizer.run.training import train

    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(RuntimeError, match="boom"):
        train(tiny_options(tmp_path), verbose=0, extra_callbacks=[Boom()])
    assert signal.getsignal(signal.SIGINT) is before


def test_importing_the_package_changes_no_environment_variable():
    import os
    import subprocess
    import sys

    # Keras and TensorFlow set several variables of their own on import (TF_CPP_MIN_LOG_LEVEL=1 among them):
    # the package may change nothing beyond what importing them alone does.
    def environment_after(imports):
        script = f"import json, os; {imports}; print(json.dumps(dict(os.environ)))"
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert environment_after("import keras_colorizer") == environment_after("import keras, tensorflow")


def test_a_generator_file_with_zip_slip_entries_is_refused_in_one_line(two_step_run, tmp_path, capsys):
    import zipfile

    from PIL import Image

    from tests.conftest import real_crops

    run = tmp_path / "run"
    shutil.copytree(two_step_run.run_dir, run)
    (checkpoint,) = (run / "checkpoints").iterdir()
    generator = checkpoint / "generator.keras"
    with zipfile.ZipFile(generator, "a") as archive:
        archive.writestr("../../escaped.txt", "written outside")
    Image.fromarray(real_crops(1, 32)[0]).save(tmp_path / "a.png")
    code, _, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "a.png"), "--model", str(run),
                                                             "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "Warning" not in err
    assert err.strip().splitlines() == [
        f"error: {generator}: refused, its entry '../../escaped.txt' points outside the file (zip-slip)"]
    assert not (tmp_path / "escaped.txt").exists()
