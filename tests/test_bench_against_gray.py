"""bench/against_gray.py: the per-band comparison with gray, on a scores.csv written the way evaluate writes it."""

import csv
import sys

import numpy as np
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

from against_gray import breakdown, read_scores  # noqa: E402


def test_bands_split_the_photos_by_gray_and_add_up_to_the_mean(tmp_path):
    rows = [  # (gray's CIEDE2000, the model's): a near-neutral photo lost, two vivid ones won, one unscored
        ("a.png", 2.0, 6.0), ("b.png", 8.0, 7.0), ("c.png", 12.0, 13.0), ("d.png", 20.0, 14.0), ("e.png", 22.0, 18.0),
        ("f.png", "nan", "nan"),
    ]
    with open(tmp_path / "scores.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["photo", "ciede2000", "gray_ciede2000"])
        writer.writerows((name, model, gray) for name, gray, model in rows)
    gray, model = read_scores(tmp_path)
    report = breakdown(gray, model)
    assert report["photos"] == 5 and report["share_better_than_gray"] == pytest.approx(3 / 5)
    assert [band["photos"] for band in report["bands"]] == [1, 1, 1, 2]
    assert [band["share_better_than_gray"] for band in report["bands"]] == [0.0, 1.0, 0.0, 1.0]
    assert report["bands"][-1]["model_ciede2000"] == 16.0 and report["bands"][-1]["gray_ciede2000"] == 21.0
    weighted = sum(band["photos"] * band["model_ciede2000"] for band in report["bands"]) / report["photos"]
    assert weighted == pytest.approx(report["model_ciede2000"]) == np.mean([6, 7, 13, 14, 18])


def test_a_folder_without_scores_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match=r"scores.csv: no such file; expected a folder keras-colorizer evaluate wrote"):
        read_scores(tmp_path)
