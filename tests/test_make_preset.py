"""tools/make_preset.py (how the shipped preset was made): a checkpoint packaged as a preset with its own network side,
scores made at another side refused, the old preset kept whole when the new one is refused, its phone file shipped
naming the preset rather than a path of the machine that exported it."""

import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, real_crops

sys.path.insert(0, str(REPO / "tools"))

import make_preset  # noqa: E402


@pytest.fixture
def scored(trained_run, tmp_path):
    """The tiny run (trained at 64) scored by evaluate on three real photos at network sides 64 and 96, and at 96
    with saturation 1.5."""
    from keras_colorizer.evaluate import evaluate

    folder = tmp_path / "three_photos"
    folder.mkdir()
    for i, crop in enumerate(real_crops(3, 96)):
        Image.fromarray(crop).save(folder / f"photo{i}.png")
    summaries = {}
    for side in (64, 96):
        evaluate(trained_run.run_dir, str(folder), str(tmp_path / f"scores{side}"), verbose=False, network_size=side)
        summaries[side] = str(tmp_path / f"scores{side}" / "summary.json")
    evaluate(trained_run.run_dir, str(folder), str(tmp_path / "strong"), verbose=False, network_size=96, saturation=1.5)
    summaries["96 strong"] = str(tmp_path / "strong" / "summary.json")
    return summaries


def test_a_preset_records_its_network_side_and_refuses_scores_made_at_another(trained_run, scored, tmp_path, monkeypatch):
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.presets import preset_setting

    monkeypatch.setattr(make_preset, "PRESETS_DIR", str(tmp_path / "presets"))
    os.makedirs(tmp_path / "presets")
    card = tmp_path / "card.md"
    card.write_text("# A tiny model\n")
    common = [trained_run.run_dir, "tiny", "--description", "a tiny test model", "--card", str(card)]

    assert make_preset.main(common + ["--scores", scored[96], "--network-size", "96"]) == 0
    folder = tmp_path / "presets" / "tiny"
    settings = json.loads((folder / "preset.json").read_text())
    assert settings["network_size"] == 96 and preset_setting(str(folder), "network_size") == 96
    assert settings["scores"]["three_photos"]["photos"] == 3 and "detail_size" not in settings
    assert Colorizer.from_preset(str(folder)).image_size == 96
    assert (folder / "model_card.md").read_text() == "# A tiny model\n"

    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    with pytest.raises(SystemExit, match=r"expected scores at network size, detail size and saturation \(64, None, 1.0\); "
                                         r"these are at \(96, None, 1.0\)"):
        make_preset.main(common + ["--scores", scored[96]])  # no --network-size: the training side, 64
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before
    assert sorted(os.listdir(tmp_path / "presets")) == ["tiny"]  # no half-built folder or lock beside it
    with pytest.raises(SystemExit, match=r"expected scores at .* \(96, None, 1.5\); these are at \(96, None, 1.0\)"):
        make_preset.main(common + ["--scores", scored[96], "--network-size", "96", "--saturation", "1.5"])

    assert make_preset.main(common + ["--scores", scored[64]]) == 0
    assert "network_size" not in json.loads((folder / "preset.json").read_text())
    assert Colorizer.from_preset(str(folder)).image_size == 64


def test_the_phone_file_is_shipped_naming_its_preset_not_the_export_folder(trained_run, scored, tmp_path, monkeypatch):
    from keras_colorizer.export.folder import export_model
    from keras_colorizer.export.tflite import read_metadata
    from keras_colorizer.inference import Colorizer

    export_model(trained_run.run_dir, tmp_path / "export", formats=("tflite",), variants=["int8"], size=64,
                 network_size=96, saturation=1.5, calibration_crops=4, eval_crops=2, log=lambda line: None)
    exported = str(tmp_path / "export" / "tflite" / "colorizer_int8.tflite")
    assert read_metadata(exported)["checkpoint"].startswith(trained_run.run_dir)  # a run: its own checkpoint's path
    monkeypatch.setattr(make_preset, "PRESETS_DIR", str(tmp_path / "presets"))
    os.makedirs(tmp_path / "presets")
    card = tmp_path / "card.md"
    card.write_text("# A tiny model\n")
    assert make_preset.main([trained_run.run_dir, "tiny", "--description", "a tiny test model", "--card", str(card),
                             "--scores", scored["96 strong"], "--network-size", "96", "--saturation", "1.5",
                             "--tflite", exported]) == 0
    assert Colorizer.from_preset(str(tmp_path / "presets" / "tiny")).saturation == 1.5
    shipped = tmp_path / "presets" / "tiny" / "colorizer_int8.tflite"
    metadata = read_metadata(str(shipped))
    assert metadata["checkpoint"] == "tiny"
    assert json.loads((tmp_path / "presets" / "tiny" / "colorizer_int8.json").read_text()) == metadata
    photo = real_crops(1, 64)[0]
    assert Colorizer.load(str(shipped)).saturation == Colorizer.load(exported).saturation == 1.5
    np.testing.assert_array_equal(Colorizer.load(str(shipped)).colorize(photo), Colorizer.load(exported).colorize(photo))
