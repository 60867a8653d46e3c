"""Training at scale: folders checked as they are read, several sources with weights, a capped validation set."""

import logging
import os

import numpy as np
import pytest
from PIL import Image

from keras_colorizer.run.options import TrainOptions
from keras_colorizer.data import (
    BuiltinPhotos,
    DataError,
    MixedSource,
    PhotoFolder,
    open_source,
    open_training_data,
    split_indices,
    training_dataset,
)
from keras_colorizer.data import folder as folder_module
from tests.conftest import REPO, call_main, real_crops, run_cli, tiny_options

BSDS500 = REPO.parent / "shared" / "data" / "train" / "bsds500"
needs_bsds = pytest.mark.skipif(not BSDS500.is_dir(), reason=f"{BSDS500} is absent (the shared training photos)")


def write_small_photos(root, count, size=24, corrupt=(), gray=()):
    """`count` small JPEG crops of the built-in photos at varied offsets, some of them corrupt or gray."""
    big = real_crops(7, 160)
    rng = np.random.default_rng(0)
    os.makedirs(root, exist_ok=True)
    names = []
    for i in range(count):
        top, left = rng.integers(0, 160 - size, 2)
        crop = big[i % 7, top : top + size, left : left + size]
        name = os.path.join(root, f"{i // 500:02d}", f"photo_{i:05d}.jpg")
        os.makedirs(os.path.dirname(name), exist_ok=True)
        if i in corrupt:
            with open(name, "wb") as f:
                f.write(b"\xff\xd8\xff\xe0 truncated")
        else:
            Image.fromarray(np.repeat(crop[..., :1], 3, -1) if i in gray else crop).save(name, quality=90)
        names.append(name)
    return names


# --- a big folder is listed, not decoded, when opened -------------------------------


def test_a_large_folder_is_checked_as_it_is_read_and_a_corrupt_photo_is_skipped_with_its_name(tmp_path, monkeypatch, caplog):
    names = write_small_photos(tmp_path / "photos", 2000, corrupt={1234}, gray={77})
    monkeypatch.setattr(folder_module, "CHECK_ON_OPEN_LIMIT", 1000)
    source = open_source(tmp_path / "photos")
    assert isinstance(source, PhotoFolder) and not source.checked_on_open and len(source) == 2000
    assert source.report.unreadable == []  # nothing decoded yet
    with caplog.at_level(logging.WARNING, logger=folder_module.__name__):
        stream = training_dataset(source, np.arange(2000), 16, batch_size=50, seed=3)
        batches = [b.numpy() for b in stream.take(40)]  # one whole pass
    assert sum(len(b) for b in batches) == 2000
    assert [path for path, _ in source.report.unreadable] == [names[1234]]
    assert source.report.grayscale_skipped == [names[77]]
    assert any(names[1234] in record.getMessage() for record in caplog.records)
    # Its place is taken by the next file, every time: a resumed stream sees what an unbroken one did.
    np.testing.assert_array_equal(source.load(1234), source.load(1235))
    again = training_dataset(source, np.arange(2000), 16, batch_size=50, seed=3, start_step=30)
    np.testing.assert_array_equal(list(again.take(1))[0].numpy(), batches[30])


def test_a_small_folder_is_still_checked_when_opened(tmp_path):
    names = write_small_photos(tmp_path / "photos", 30, corrupt={3})
    source = open_source(tmp_path / "photos")
    assert source.checked_on_open and len(source) == 29
    assert [path for path, _ in source.report.unreadable] == [names[3]]


def test_a_large_folder_of_only_broken_files_is_one_clear_error(tmp_path):
    write_small_photos(tmp_path / "photos", 5, corrupt=set(range(5)))
    source = PhotoFolder(tmp_path / "photos", check_on_open=False)
    with pytest.raises(DataError, match=r"photos: no usable colour photo among 5 file\(s\) \(0 usable, 5 unreadable skipped\)"):
        source.load(2)


def test_training_goes_on_past_a_corrupt_photo_in_a_large_folder(tmp_path, monkeypatch, caplog):
    from keras_colorizer.run.training import train

    names = write_small_photos(tmp_path / "photos", 60, size=80, corrupt={5, 40})
    monkeypatch.setattr(folder_module, "CHECK_ON_OPEN_LIMIT", 50)
    # One pass over the 54 training photos (6 held out): the corrupt files are read, named and passed over.
    with caplog.at_level(logging.WARNING, logger=folder_module.__name__):
        result = train(tiny_options(tmp_path, data=str(tmp_path / "photos"), val_split=0.1, batch_size=6,
                                    steps_per_epoch=9, epochs=1), verbose=0)
    assert result.steps == 9 and result.checkpoint and not result.diverged
    assert np.isfinite(result.history["g_l1"]).all() and np.isfinite(result.history["val_l1"]).all()
    named = [n for n in (names[5], names[40]) if any(n in r.getMessage() for r in caplog.records)]
    assert len(named) == 2  # read in training, or checked (and left out) among the validation photos


# --- several sources, with weights -------------------------------------------------------


def _source_of(source, index):
    return int(np.searchsorted(source.starts, index, side="right") - 1)


def test_several_sources_are_sampled_by_their_weights_and_restart_exactly(tmp_path):
    write_small_photos(tmp_path / "a", 40, size=80)
    mixed, train_idx, val_idx, counts = open_training_data(
        [str(tmp_path / "a"), None], weights=[1, 3], val_split=0.0, seed=0
    )
    assert isinstance(mixed, MixedSource) and len(mixed) == 47 and len(train_idx) == 47 and len(val_idx) == 0
    assert counts == [12, 35]  # 47 a pass: a quarter from the folder, three quarters from the 7 built-in photos
    # Each pass holds those counts (the built-in photos repeated 5 times), in a new order each pass.
    stream = list(training_dataset(mixed, train_idx, 32, batch_size=47, seed=1, jitter=False).take(2))
    assert all(b.shape[0] == 47 for b in stream)

    # The indices themselves, through the dataset's own order: read back by source.
    import tensorflow as tf

    from keras_colorizer.data.pipeline import _weighted_pass

    for p in range(3):
        order = _weighted_pass(mixed.groups(train_idx), counts, tf.constant([1, p], tf.int64)).numpy()
        by_source = np.bincount([_source_of(mixed, i) for i in order], minlength=2)
        assert list(by_source) == counts
        builtin = [i for i in order if _source_of(mixed, i) == 1]
        assert np.bincount(np.asarray(builtin) - 40).min() == 5  # 35 = 7 x 5: every built-in photo five times
    restarted = list(training_dataset(mixed, train_idx, 32, batch_size=47, seed=1, jitter=False, start_step=1).take(1))
    np.testing.assert_array_equal(restarted[0], stream[1])


def test_mixed_sources_refuse_kaggle_arrays_beside_photos_and_bad_weights(tmp_path):
    from tests.conftest import write_kaggle_layout

    write_kaggle_layout(tmp_path / "kaggle", counts=(2, 1, 1))
    with pytest.raises(DataError, match=r"--data: .*kaggle, builtin mix the Kaggle arrays \(8-bit Lab\) with photo folders"):
        open_training_data([str(tmp_path / "kaggle"), None])
    with pytest.raises(ValueError, match=r"--data-weights takes one weight >= 0 per --data source \(2\).*Received: '1'"):
        TrainOptions(data=["a", "b"], data_weights="1").data_weight_values()
    with pytest.raises(ValueError, match=r"Received: '0,0'"):
        TrainOptions(data=["a", "b"], data_weights="0,0").data_weight_values()


@needs_bsds
def test_train_cli_takes_several_sources_with_weights_and_a_validation_folder(tmp_path, capsys):
    out = tmp_path / "runs"
    code, _, err = call_main("keras_colorizer.cli.train", [
        "--data", str(BSDS500), "builtin", "--data-weights", "1,1", "--val-data", str(REPO / "bench"),
        "--generator", "unet_128", "--levels", "3", "--image-size", "64", "--out", str(out), "--name", "mixed",
    ], capsys)
    # bench/ holds no photos: the validation folder is refused in one line, before a run folder exists.
    assert code == 2 and err.strip().splitlines() == [f"error: {REPO / 'bench'}: no photos found (searched recursively "
                                                      "for .jpg, .jpeg, .png, .bmp, .tif, .tiff, .webp)"]
    assert not (out / "mixed").exists()
    write_small_photos(tmp_path / "val", 12, size=80)
    result = run_cli(
        "train.py", "--data", str(BSDS500), "builtin", "--data-weights", "1,1", "--val-data", str(tmp_path / "val"),
        "--val-max", "5", "--generator", "unet_128", "--levels", "3", "--ngf", "8", "--ndf", "8", "--n-layers", "2",
        "--image-size", "64", "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "2", "--out", str(out),
        "--name", "mixed", "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert "407 for training, 5 for validation" in result.stdout
    saved = TrainOptions.load(out / "mixed" / "options.json")
    assert saved.data == [str(BSDS500), "builtin"] and saved.data_weights == "1,1" and saved.val_max == 5


# --- validation: capped, or a folder of its own -----------------------------------------


def test_validation_is_capped_and_old_runs_keep_their_whole_split():
    train_idx, val_idx = split_indices(100_000, 0.15, seed=0, val_max=300)
    assert len(val_idx) == 300 and len(train_idx) == 99_700
    assert set(val_idx) <= set(split_indices(100_000, 0.15, seed=0)[1])  # the first 300 of the same draw
    # A run written before --val-max (its options.json has none) resumes with the split it trained on.
    assert TrainOptions.from_dict({"data": "photos"}).val_max == 0
    assert TrainOptions().val_max == 300


def test_a_validation_folder_holds_nothing_out_of_the_training_photos(tmp_path):
    write_small_photos(tmp_path / "val", 12, size=80, corrupt={4})
    source, train_idx, val_idx, counts = open_training_data(None, val_data=str(tmp_path / "val"), val_max=5, seed=0)
    assert list(train_idx) == list(range(7)) and len(val_idx) == 5 and counts is None
    assert all(source.name(i).startswith("0") for i in val_idx)  # photos of the validation folder
    assert len(BuiltinPhotos()) == 7
