"""The ImageNet encoder's starting weights: the installed file, a file of the user's, and the encoders removed.

Its own file so that pytest-xdist (`--dist loadfile`) runs it beside the other Lite0 tests.
"""

import keras
import numpy as np
import pytest

from tests.conftest import call_main, error_lines


def _weights_file(tmp_path, value):
    """Lite0's classifier with recognisable first values, written here (what `--encoder-weights FILE` reads)."""
    from keras_colorizer.models.backbones.efficientnet_lite import efficientnet_lite0_classifier

    encoder = efficientnet_lite0_classifier(input_size=None)
    first = encoder.trainable_variables[0]
    first.assign(np.full(first.shape, value, "float32"))
    path = tmp_path / "lite0.weights.h5"
    encoder.save_weights(path)
    return path, first.path


def test_a_weights_file_is_the_starting_point_and_is_read_again_when_rewritten(tmp_path):
    """The encoder's weights are kept per process (`pretrained_layer_weights`), but not past a change of the file."""
    from keras_colorizer.models import EncoderUNetGenerator

    first_values = []
    for value in (0.01, 0.02):
        weights, first = _weights_file(tmp_path, value)  # the same path, rewritten
        generator = EncoderUNetGenerator(weights=str(weights), image_size=32)
        started = next(v for v in generator.weights if v.path == first)
        first_values.append(np.unique(keras.ops.convert_to_numpy(started)).tolist())
    assert first_values == [[pytest.approx(0.01)], [pytest.approx(0.02)]]


def test_train_with_a_missing_encoder_weights_file_exits_2(tmp_path, capsys):
    # In this process: tests/test_cli.py runs `train.py` refusing an option as a real process.
    argv = ["--encoder-weights", str(tmp_path / "none.h5"), "--image-size", "64",
            "--out", str(tmp_path / "runs"), "--epochs", "1", "--steps-per-epoch", "1"]
    code, _, err = call_main("keras_colorizer.cli.train", argv, capsys)
    assert code == 2, err[-2000:]
    errors = error_lines(err)
    assert len(errors) == 1 and "none.h5: no such weights file for the efficientnet_lite0 encoder" in errors[0]


def test_the_removed_keras_applications_generators_are_refused_by_name(tmp_path, capsys):
    code, _, err = call_main("keras_colorizer.cli.train", ["--generator", "convnext_tiny_unet", "--out", str(tmp_path)], capsys)
    assert code == 2
    errors = error_lines(err)
    assert len(errors) == 1 and "--generator convnext_tiny_unet was removed" in errors[0], err[-2000:]
    assert "efficientnet_lite0_unet" in errors[0]


def test_a_saved_generator_on_a_removed_encoder_says_so_when_loaded(tmp_path):
    """A .keras file made with one of them (its config names the encoder) is refused with the reason, not a trace."""
    from keras_colorizer.models import EncoderUNetGenerator

    config = EncoderUNetGenerator(weights=None, decoder_filters=(8, 8, 8, 8), image_size=32).get_config()
    with pytest.raises(ValueError, match="The mobilenet_v3_small encoder was removed"):
        EncoderUNetGenerator.from_config({**config, "backbone": "mobilenet_v3_small"})
