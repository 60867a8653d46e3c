"""The evaluate command: the same scores for a checkpoint, a SavedModel and a .tflite file."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import call_main, error_lines, real_crops, run_cli


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    crops = real_crops(3, 96)
    Image.fromarray(crops[0]).save(folder / "a.png")
    Image.fromarray(crops[1][:80]).save(folder / "b.jpg", quality=95)  # another size
    Image.fromarray(crops[2]).save(folder / "c.png")
    Image.fromarray(np.repeat(crops[0][..., :1], 3, axis=-1)).save(folder / "gray.png")
    return folder


@pytest.fixture(scope="module")
def exported_small(trained_run, tmp_path_factory):
    from keras_colorizer.cli.export import main as export

    out = tmp_path_factory.mktemp("exp") / "out"
    assert export([trained_run.run_dir, "--out", str(out), "--size", "64", "--variants", "float32", "--calibration-crops", "2",
                   "--eval-crops", "2"]) == 0
    return out


def _evaluate(model, data, out, capsys=None):
    """Score a model with the evaluate command: in this process when `capsys` is given, else as a real one."""
    argv = ["--model", str(model), "--data", str(data), "--out", str(out)]
    if capsys is not None:
        code, stdout, err = call_main("keras_colorizer.cli.evaluate", argv, capsys)
    else:
        result = run_cli("-m", "keras_colorizer.cli.evaluate", *argv)
        code, stdout, err = result.returncode, result.stdout, result.stderr
    assert code == 0, err[-3000:]
    return json.loads((out / "summary.json").read_text()), stdout


def test_evaluate_scores_a_checkpoint_a_saved_model_and_a_tflite_file_alike(trained_run, exported_small, photo_folder, tmp_path,
                                                                           capsys):
    models = {
        "checkpoint": trained_run.run_dir,
        "saved_model": exported_small / "serving" / "colorizer" / "1",
        "tflite": exported_small / "tflite" / "colorizer_float32.tflite",
    }
    summaries = {}
    for kind, model in models.items():
        out = tmp_path / kind
        # One format as a real `python -m keras_colorizer.cli.evaluate` process; the others in this process (no
        # second TensorFlow start-up: about 10 s each on CI's cores).
        summary, stdout = _evaluate(model, photo_folder, out, capsys=None if kind == "tflite" else capsys)
        summaries[kind] = summary
        assert summary["photos"] == 3 and summary["grayscale_skipped"] == 1
        assert "model" in stdout and "gray" in stdout  # the closing table
        rows = (out / "scores.csv").read_text().splitlines()
        assert len(rows) == 4 and rows[0].startswith("photo,height,width,psnr,ssim,ciede2000")
        for figure in ("grid.png", "scores.png"):
            with Image.open(out / figure) as image:
                assert image.size[0] > 300
    # The gray baseline does not depend on the model; the model scores agree across formats.
    for kind in ("saved_model", "tflite"):
        assert summaries[kind]["gray_scores"] == pytest.approx(summaries["checkpoint"]["gray_scores"])
        assert summaries[kind]["model_scores"]["psnr"] == pytest.approx(summaries["checkpoint"]["model_scores"]["psnr"], abs=0.1)
        assert summaries[kind]["model_scores"]["ciede2000"] == pytest.approx(summaries["checkpoint"]["model_scores"]["ciede2000"], abs=0.1)
    gray = summaries["checkpoint"]["gray_scores"]
    assert gray["cf"] == 0.0 and np.isfinite(gray["psnr"]) and gray["ciede2000"] > 0


@pytest.mark.parametrize(
    "make_model,make_data,message",
    [
        (lambda tmp, run: run, lambda tmp: tmp / "empty", "no photos found"),
        (lambda tmp, run: _file(tmp / "model.tflite", b"not a flatbuffer"), lambda tmp: None, "not a colorizer TFLite file"),
        (lambda tmp, run: _file(tmp / "weights.bin", b"junk"), lambda tmp: None, "holds no checkpoint"),
        (lambda tmp, run: _foreign_saved_model(tmp), lambda tmp: None, "without a predict_ab signature"),
    ],
    ids=["no-photos", "unreadable-tflite", "not-a-model", "foreign-saved-model"],
)
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, trained_run, photo_folder, make_model, make_data, message, capsys):
    (tmp_path / "empty").mkdir()
    model = make_model(tmp_path, trained_run.run_dir)
    data = make_data(tmp_path) or photo_folder
    argv = ["--model", str(model), "--data", str(data), "--out", str(tmp_path / "out")]
    code, _, err = call_main("keras_colorizer.cli.evaluate", argv, capsys)
    assert code == 2, err[-2000:]
    errors = error_lines(err)
    assert len(errors) == 1 and message in errors[0], err[-2000:]


def _file(path, content):
    path.write_bytes(content)
    return path


def _foreign_saved_model(tmp):
    import tensorflow as tf

    module = tf.Module()
    module.f = tf.function(lambda x: {"y": x * 2}, input_signature=[tf.TensorSpec([None], tf.float32)])
    tf.saved_model.save(module, str(tmp / "foreign"), signatures={"serving_default": module.f})
    return tmp / "foreign"


def test_a_colorizer_object_is_scored_under_the_name_given(trained_run, photo_folder, tmp_path):
    from keras_colorizer.evaluate import evaluate
    from keras_colorizer.inference import Colorizer

    summary = evaluate(Colorizer.load(trained_run.run_dir), photo_folder, tmp_path, verbose=False, name="tiny, T=1")
    assert summary["model"] == "tiny, T=1"  # not the object's repr, which titled the grid before
    assert json.loads((tmp_path / "summary.json").read_text())["model"] == "tiny, T=1" and (tmp_path / "grid.png").is_file()
    assert summary["photos"] == 3 and np.isfinite(summary["model_scores"]["ciede2000"])
