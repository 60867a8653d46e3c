"""bench/chroma_frontier.py: a model's error and colour with its a, b scaled, scored the way evaluate scores."""

import sys

import pytest
from PIL import Image

from tests.conftest import REPO, real_crops

sys.path.insert(0, str(REPO / "bench"))

from chroma_frontier import crossing, score_folder  # noqa: E402


def test_crossing_interpolates_where_the_error_rises_past_gray():
    gray = 11.0
    assert crossing([(0.0, gray), (0.2, 10.5), (0.4, 10.8), (0.6, 11.4)], gray) == pytest.approx(0.4 + 0.2 * 0.2 / 0.6, abs=1e-3)
    assert crossing([(0.0, gray), (0.3, 11.5), (0.6, 12.0)], gray) == 0.0  # any colour is worse than none
    assert crossing([(0.0, gray), (0.3, 10.0), (0.6, 10.5)], gray) is None  # below gray at every scale scored


def test_scale_one_scores_as_evaluate_does_and_a_mean_of_one_model_is_that_model(trained_run, tmp_path):
    from keras_colorizer.evaluate import evaluate
    from keras_colorizer.inference import Colorizer

    folder = tmp_path / "photos"
    folder.mkdir()
    for i, crop in enumerate(real_crops(3, 96)):
        Image.fromarray(crop).save(folder / f"photo{i}.png")
    colorizer = Colorizer.load(trained_run.run_dir)
    grid = tmp_path / "grid.png"
    result = score_folder({"model": [colorizer], "twice": [colorizer, colorizer]}, str(folder), [0.5, 1.0], grid=str(grid))
    summary = evaluate(colorizer, str(folder), str(tmp_path / "eval"), verbose=False, name="tiny")

    model, gray = summary["model_scores"], summary["gray_scores"]
    at_one = result["models"]["model"]["by_scale"]["1"]
    assert result["photos"] == summary["photos"] == 3
    assert result["gray_ciede2000"] == pytest.approx(gray["ciede2000"], abs=0.01)
    assert at_one["ciede2000"] == pytest.approx(model["ciede2000"], abs=0.01)
    assert at_one["psnr"] == pytest.approx(model["psnr"], abs=0.01)
    assert at_one["cf_share_of_original"] == pytest.approx(model["cf"] / model["cf_original"], abs=0.001)
    assert result["models"]["model"]["by_scale"]["0.5"]["cf_share_of_original"] < at_one["cf_share_of_original"]
    assert result["models"]["twice"] == result["models"]["model"]
    assert Image.open(grid).size == (1040, 780)  # 4 columns (gray, x0.5, x1, original) and 3 photos, 2.6 inches each

    # --spare-skin: a scale is drawn as --saturation draws it, so it scores as evaluate does at that saturation.
    spared = score_folder({"model": [colorizer]}, str(folder), [1.75], spare_skin=True)["models"]["model"]["by_scale"]
    strong = evaluate(Colorizer.load(trained_run.run_dir, saturation=1.75), str(folder), str(tmp_path / "strong"),
                      verbose=False, name="tiny")["model_scores"]
    assert spared["1.75"]["ciede2000"] == pytest.approx(strong["ciede2000"], abs=0.01)
    assert spared["1.75"]["cf_share_of_original"] == pytest.approx(strong["cf"] / strong["cf_original"], abs=0.001)


def test_compare_takes_each_reports_mean_curve_under_its_label(tmp_path):
    import json

    from chroma_frontier import compare

    def report(path, models, photos=24):
        curves = {name: {"by_scale": {"1": {"ciede2000": de, "cf_share_of_original": 0.7, "psnr": 22.0}},
                         "cf_share_at_gray_error": None} for name, de in models.items()}
        path.write_text(json.dumps({"eval": {"kodak24": {"photos": photos, "gray_ciede2000": 11.7, "models": curves}}}))
        return str(path)

    short = report(tmp_path / "short.json", {"seed 0": 11.0, "seed 1": 11.4, "mean of 2 runs": 11.1})
    single = report(tmp_path / "single.json", {"seed 0": 12.3})
    results = compare([short, single], ["800 steps", "8,000 steps"])
    curves = results["kodak24"]["models"]
    assert list(curves) == ["800 steps", "8,000 steps"] and results["kodak24"]["gray_ciede2000"] == 11.7
    assert curves["800 steps"]["by_scale"]["1"]["ciede2000"] == 11.1  # the mean, not a seed
    assert curves["8,000 steps"]["by_scale"]["1"]["ciede2000"] == 12.3
    # a folder of the same name that is not the same photos
    other_photos = report(tmp_path / "other_photos.json", {"seed 0": 12.0}, photos=20)
    with pytest.raises(SystemExit, match=r"other_photos.json: its 'kodak24' is 20 photos .* expected the same photos"):
        compare([short, other_photos], ["a", "b"])
    for name, text in (("cut.json", '{"eval": '), ("other.json", '{"runs": []}'), ("list.json", '{"eval": [1]}')):
        (tmp_path / name).write_text(text)
        with pytest.raises(SystemExit, match=rf"{name}: not a report this script wrote with --out"):
            compare([str(tmp_path / name)], ["x"])


def test_a_missing_run_folder_or_output_folder_is_one_line(tmp_path, monkeypatch, trained_run):
    from chroma_frontier import main

    monkeypatch.setattr(sys, "argv", ["chroma_frontier.py", str(tmp_path / "no-run")])
    with pytest.raises(SystemExit, match=r"^error: .*no-run: no such run or checkpoint$"):
        main()
    monkeypatch.setattr(sys, "argv", ["chroma_frontier.py", str(trained_run.run_dir), "--eval", str(tmp_path / "no-photos")])
    with pytest.raises(SystemExit, match=r"^error: .*no-photos: not a folder of photos"):
        main()
    monkeypatch.setattr(sys, "argv", ["chroma_frontier.py", str(trained_run.run_dir), "--label", "tanh", "--temperature", "0.5"])
    with pytest.raises(SystemExit, match=r"^error: tanh: only a --ab-head classes generator has a temperature"):
        main()
    for option in ("--out", "--plot"):  # refused before any scoring, so no minutes are lost to it
        target = str(tmp_path / "no-folder" / "report")
        monkeypatch.setattr(sys, "argv", ["chroma_frontier.py", str(trained_run.run_dir), option, target])
        with pytest.raises(SystemExit, match=rf"^error: {option} .*no-folder/report: its folder does not exist"):
            main()


def test_network_size_runs_every_model_at_that_side_and_a_wrong_one_is_one_line(tmp_path, monkeypatch, trained_run):
    import json

    from chroma_frontier import main

    from keras_colorizer.inference import Colorizer

    trained = Colorizer.load(trained_run.run_dir)
    larger = trained.image_size + trained.generator.size_multiple
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, crop in enumerate(real_crops(2, 96)):
        Image.fromarray(crop).save(folder / f"photo{i}.png")
    report = tmp_path / "report.json"
    monkeypatch.setattr(sys, "argv", ["chroma_frontier.py", str(trained_run.run_dir), "--label", "tiny", "--scale", "1",
                                      "--network-size", str(larger), "--eval", str(folder), "--out", str(report)])
    main()
    assert json.loads(report.read_text())["network_sizes"] == {"tiny": larger}
    monkeypatch.setattr(sys, "argv", ["chroma_frontier.py", str(trained_run.run_dir), "--network-size", str(larger + 1)])
    with pytest.raises(SystemExit, match=rf"^error: network size must be a positive multiple of .*Received: {larger + 1}$"):
        main()
