"""bench/encoder_recognition.py: how well the frozen encoder's classifier knows gray photos at each side."""

import json
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, real_crops

sys.path.insert(0, str(REPO / "bench"))

from encoder_recognition import accuracy, main, view  # noqa: E402

IMAGENET500 = REPO.parent / "shared" / "data" / "dev" / "imagenet500"


def test_views_are_gray_at_their_side_and_the_training_view_has_lost_its_detail():
    photo = Image.fromarray(real_crops(1, 224)[0])
    assert view(photo, "rgb224").shape == (224, 224, 3)
    for name, side in (("gray160", 160), ("gray64to128", 128)):
        shown = view(photo, name)
        assert shown.shape == (side, side, 3) and shown.dtype == np.uint8
        assert np.array_equal(shown[..., 0], shown[..., 2])  # gray: one channel three times
    sharp, soft = view(photo, "gray224").astype(float), view(photo, "gray64to224").astype(float)
    assert np.abs(np.diff(soft, axis=1)).mean() < 0.6 * np.abs(np.diff(sharp, axis=1)).mean()
    with pytest.raises(ValueError, match="Received: 'sepia224'"):
        view(photo, "sepia224")


def test_accuracy_counts_the_label_among_the_best_one_and_five():
    logits = np.array([[0.0, 9, 8, 7, 6, 5, 4], [9, 8, 7, 6, 5, 4, 3]])
    assert accuracy(logits, [1, 5]) == (0.5, 0.5)  # the first's best; the second's 6th best
    assert accuracy(logits, [5, 4]) == (0.0, 1.0)


@pytest.mark.skipif(not IMAGENET500.is_dir(), reason="needs ../shared/data/dev/imagenet500 (the shared photos; CI has them)")
def test_the_classifier_knows_sharp_photos_and_few_of_those_shrunk_to_64(tmp_path):
    out = tmp_path / "recognition.json"
    report = main(["--every", "20", "--view", "rgb224", "--view", "gray224", "--view", "gray64to128", "--out", str(out)])
    views = json.loads(out.read_text())["views"]
    assert report["photos"] == 25 and views == report["views"]
    assert views["rgb224"]["top5"] >= 0.8  # the converted weights classify real photos
    assert views["gray64to128"]["top1"] < views["gray224"]["top1"] - 0.2, views
