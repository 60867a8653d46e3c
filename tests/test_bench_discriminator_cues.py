"""bench/discriminator_cues.py: what a run's discriminator reacts to, on real and altered pairs."""

import json
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, real_crops

sys.path.insert(0, str(REPO / "bench"))

from discriminator_cues import CASES, hue_turned, main  # noqa: E402


def test_turning_the_hue_keeps_the_chroma():
    ab = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 4, 4, 2)).astype("float32")
    np.testing.assert_allclose(hue_turned(ab, 180), -ab, atol=1e-6)
    turned = hue_turned(ab, 90)
    np.testing.assert_allclose(np.hypot(*np.moveaxis(turned, -1, 0)), np.hypot(*np.moveaxis(ab, -1, 0)), atol=1e-6)
    np.testing.assert_allclose(turned[..., 0], -ab[..., 1], atol=1e-6)  # a' = -b: a quarter turn


def test_scores_every_case_and_leaves_the_discriminator_as_it_found_it(trained_run, tmp_path, capsys):
    import keras

    from keras_colorizer.run.checkpoint import DISCRIMINATOR_FILE

    photos = tmp_path / "photos"
    photos.mkdir()
    for i, crop in enumerate(real_crops(4, 96)):
        Image.fromarray(crop).save(photos / f"photo{i}.png")
    out = tmp_path / "cues.json"
    main([trained_run.run_dir, "--photos", str(photos), "--count", "4", "--batch", "2", "--out", str(out)])
    result = json.loads(out.read_text())
    assert set(result["own batch"]) == set(result["beside real"]) == set(CASES)
    for scores in [*result["own batch"].values(), *result["beside real"].values()]:
        assert np.isfinite(scores["mean"]) and 0 <= scores["called_real"] <= 1
    assert result["size"] == 64 and result["batch"] == 2  # the run's training side
    # Faded to gray, real colour is a different input from real colour: the scores must tell them apart.
    assert result["own batch"]["real x0 (gray)"] != result["own batch"]["real"]
    assert "beside real pairs" in capsys.readouterr().out

    # The script resets the batch norm statistics it moved: the checkpoint's discriminator, scored twice, agrees.
    checkpoint = result["checkpoint"]
    before = [v.numpy() for v in keras.saving.load_model(f"{checkpoint}/{DISCRIMINATOR_FILE}").non_trainable_variables]
    from discriminator_cues import cues

    discriminator = keras.saving.load_model(f"{checkpoint}/{DISCRIMINATOR_FILE}")
    generator = trained_run.model.generator
    first = cues(generator, discriminator, real_crops(4, 64), 2)
    for variable, value in zip(discriminator.non_trainable_variables, before):
        np.testing.assert_array_equal(variable.numpy(), value)
    assert cues(generator, discriminator, real_crops(4, 64), 2) == first


def test_a_batch_larger_than_the_photos_is_refused(trained_run, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main([trained_run.run_dir, "--count", "2", "--batch", "4", "--photos", str(tmp_path)])
    assert exit_info.value.code == 2
