"""Generators on `keras.applications` encoders: built from a weights file (nothing downloads here), trained, exported.

Its own file so that pytest-xdist (`--dist loadfile`) runs it beside the Lite0 tests.
"""

import json

import keras
import numpy as np
import pytest

from keras_colorizer.errors import UserError
from tests.conftest import call_main, error_lines, tiny_options


APPLICATIONS = ["mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_v2_b0", "resnet50_v2", "convnext_tiny"]


def _weights_file(backbone, tmp_path, value=0.01):
    """The encoder's weights with recognisable first values, written here: nothing downloads in the tests."""
    from keras_colorizer.models.backbones import get_backbone

    encoder = get_backbone(backbone).build(keras.Input((None, None, 3)), None)
    for variable in encoder.trainable_variables[:3]:
        variable.assign(np.full(variable.shape, value, "float32"))
    path = tmp_path / f"{backbone}.weights.h5"
    encoder.save_weights(path)
    return path, encoder.trainable_variables[0].path


@pytest.mark.parametrize("backbone", APPLICATIONS)
def test_keras_applications_backbone_starts_from_its_weights_file_and_colours_any_multiple_of_32(backbone, tmp_path):
    from keras_colorizer.models import EncoderUNetGenerator

    weights, first = _weights_file(backbone, tmp_path)
    generator = EncoderUNetGenerator(backbone=backbone, weights=str(weights), image_size=32)
    loaded = next(v for v in generator.weights if v.path == first)
    np.testing.assert_array_equal(loaded.numpy(), np.float32(0.01))
    for size in (32, 64):
        ab = keras.ops.convert_to_numpy(generator(np.zeros((1, size, size, 1), "float32"), training=False))
        assert ab.shape == (1, size, size, 2) and np.isfinite(ab).all() and np.abs(ab).max() <= 1.0


def test_a_weights_file_rewritten_on_disk_is_read_again(tmp_path):
    """The backbone's weights are kept per process (`pretrained_layer_weights`), but not past a change of the file."""
    from keras_colorizer.models import EncoderUNetGenerator

    first_values = []
    for value in (0.01, 0.02):
        weights, first = _weights_file("mobilenet_v3_small", tmp_path, value)  # the same path, rewritten
        generator = EncoderUNetGenerator(backbone="mobilenet_v3_small", weights=str(weights), image_size=32)
        first_values.append(float(next(v for v in generator.weights if v.path == first).numpy().flat[0]))
    assert first_values == pytest.approx([0.01, 0.02])


def test_a_keras_applications_generator_trains_a_step_and_exports(tmp_path):
    """The whole path, once (MobileNetV3-Small, the cheapest): train from the weights file, export, agree."""
    from keras_colorizer.export.cli import main as export
    from keras_colorizer.run.training import train

    backbone = "mobilenet_v3_small"
    weights, first = _weights_file(backbone, tmp_path)
    options = tiny_options(tmp_path, name=backbone, generator=f"{backbone}_unet", encoder_weights=str(weights),
                           steps_per_epoch=1, image_size=32)  # the smallest side a stride-32 encoder takes
    result = train(options, verbose=0)
    assert result.steps == 1
    trained = next(v for v in result.model.generator.weights if v.path == first)
    assert np.allclose(trained.numpy(), 0.01, atol=1e-3)  # started from the file, moved at most a little
    out = tmp_path / "export"
    code = export([result.run_dir, "--out", str(out), "--size", "32", "--formats", "tflite", "--variants", "float32",
                   "--calibration-crops", "2", "--eval-crops", "2"])
    assert code == 0
    row = next(r for r in json.loads((out / "report.json").read_text()) if r["artifact"].endswith("float32.tflite"))
    assert row["agreement_psnr_db"] > 40.0, row


def test_a_failed_imagenet_download_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    from keras_colorizer.models.backbones import pretrained_model

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.utils.file_utils.get_file", offline)
    with pytest.raises(UserError) as caught:
        pretrained_model("mobilenet_v3_small", "imagenet")
    message = str(caught.value)
    assert "\n" not in message and "mobilenet_v3_small: could not get its ImageNet weights" in message
    assert "run once with network access" in message and "efficientnet_lite0_unet" in message


def test_train_with_a_missing_encoder_weights_file_exits_2(tmp_path, capsys):
    # In this process: tests/test_cli.py runs `train.py` refusing an option as a real process.
    argv = ["--generator", "mobilenet_v3_small_unet", "--encoder-weights", str(tmp_path / "none.h5"), "--image-size", "64",
            "--out", str(tmp_path / "runs"), "--epochs", "1", "--steps-per-epoch", "1"]
    code, _, err = call_main("keras_colorizer.cli.train", argv, capsys)
    assert code == 2, err[-2000:]
    errors = error_lines(err)
    assert len(errors) == 1 and "none.h5: no such weights file for the mobilenet_v3_small encoder" in errors[0]
