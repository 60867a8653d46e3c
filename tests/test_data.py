import os

import numpy as np
import psutil
import pytest
import tensorflow as tf
from keras import ops

from keras_colorizer import color
from keras_colorizer.data import (
    BuiltinPhotos,
    DataError,
    KaggleNpy,
    PhotoFolder,
    open_source,
    split_indices,
    training_dataset,
    validation_dataset,
)
from tests.conftest import write_kaggle_layout, write_photo_folder


# --- the Kaggle layout -------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True])
def test_kaggle_layout_is_found_and_decodes_to_the_original_colours(tmp_path, nested):
    rgb = write_kaggle_layout(tmp_path, counts=(3, 2, 1), nested=nested)
    source = open_source(tmp_path)
    assert isinstance(source, KaggleNpy) and len(source) == 6 and source.encoding == "lab8"
    # Image 4 lives in ab2.npy: the files are concatenated in order.
    lab8 = source.load(4)
    l_norm, ab_norm = color.lab8_to_network(lab8[None, ..., :1], lab8[None, ..., 1:])
    back = ops.convert_to_numpy(color.network_to_rgb(l_norm, ab_norm))[0] * 255.0
    assert np.abs(back - rgb[4]).mean() < 2.0  # 8-bit Lab costs about a grey level


def test_kaggle_arrays_are_memory_mapped(tmp_path):
    write_kaggle_layout(tmp_path, counts=(2, 1, 1))
    source = KaggleNpy(tmp_path)
    assert isinstance(source.l, np.memmap)
    assert all(isinstance(a, np.memmap) for a in source.ab)


def test_kaggle_count_mismatch_names_the_files(tmp_path):
    write_kaggle_layout(tmp_path, counts=(2, 1, 1))
    np.save(tmp_path / "ab" / "ab3.npy", np.zeros((3, 224, 224, 2), np.uint8))
    with pytest.raises(DataError, match=r"gray_scale\.npy: holds 4 L images but the ab files hold 6 .*ab3\.npy 3"):
        open_source(tmp_path)


def test_kaggle_wrong_shape_names_the_file_and_the_expected_shape(tmp_path):
    write_kaggle_layout(tmp_path, counts=(2, 1, 1))
    np.save(tmp_path / "ab" / "ab2.npy", np.zeros((1, 224, 224, 3), np.uint8))
    with pytest.raises(DataError, match=r"ab2\.npy: holds uint8 \(1, 224, 224, 3\), expected uint8 \(n, 224, 224, 2\)"):
        open_source(tmp_path)


def test_kaggle_wrong_dtype_is_refused(tmp_path):
    write_kaggle_layout(tmp_path, counts=(2, 1, 1))
    np.save(tmp_path / "l" / "gray_scale.npy", np.zeros((4, 224, 224), np.float32))
    with pytest.raises(DataError, match=r"gray_scale\.npy: holds float32"):
        open_source(tmp_path)


def test_kaggle_pickled_array_is_refused(tmp_path):
    write_kaggle_layout(tmp_path, counts=(2, 1, 1))
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, {"b": 2}]
    np.save(tmp_path / "ab" / "ab1.npy", objects)  # np.save pickles object arrays by default
    with pytest.raises(DataError, match=r"ab1\.npy: holds pickled Python objects"):
        open_source(tmp_path)


def test_kaggle_missing_ab_folder(tmp_path):
    write_kaggle_layout(tmp_path, counts=(1, 1, 1))
    for name in ("ab1.npy", "ab2.npy", "ab3.npy"):
        os.remove(tmp_path / "ab" / name)
    with pytest.raises(DataError, match="no ab arrays"):
        open_source(tmp_path)


# --- a folder of photos --------------------------------------------------------------


def test_photo_folder_reads_every_format_and_leaves_out_gray_and_broken(tmp_path, caplog):
    expected = write_photo_folder(tmp_path)
    with caplog.at_level("WARNING"):
        source = open_source(tmp_path)
    assert isinstance(source, PhotoFolder)
    assert len(source) == expected["usable"]
    assert len(source.report.grayscale_skipped) == expected["gray"]
    assert {os.path.basename(p) for p, _ in source.report.unreadable} == expected["unreadable"]
    for name in expected["unreadable"]:
        assert name in caplog.text
    assert "Skipped 2 unreadable" in caplog.text
    names = {source.name(i) for i in range(len(source))}
    assert os.path.join("nested", "deeper", "alpha.png") in names
    for i in range(len(source)):
        image = source.load(i)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3


def test_sixteen_bit_png_becomes_the_same_8_bit_photo(tmp_path):
    write_photo_folder(tmp_path)
    source = PhotoFolder(tmp_path)
    by_name = {source.name(i): i for i in range(len(source))}
    deep = source.load(by_name["deep16.png"]).astype(int)
    jpeg_source = source.load(by_name["photo.png"])  # another crop; only shapes must match
    assert deep.shape == jpeg_source.shape
    assert deep.max() > 200 and deep.min() < 50  # scaled to 8 bits, not clipped to 255 or 0


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no photos found"):
        open_source(tmp_path)


def test_folder_of_only_gray_and_broken_photos_is_an_error(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"nope")
    from PIL import Image

    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(tmp_path / "gray.png")
    with pytest.raises(DataError, match=r"no usable colour photo among 2 file\(s\)"):
        open_source(tmp_path)


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        open_source(tmp_path / "missing")


# --- built-in photos --------------------------------------------------------------------


def test_builtin_photos_are_real_colour_photographs():
    source = open_source(None)
    assert isinstance(source, BuiltinPhotos) and len(source) >= 6
    for i in range(len(source)):
        image = source.load(i)
        assert image.dtype == np.uint8 and min(image.shape[:2]) >= 256
        assert image.std(axis=-1).mean() > 3.0, source.name(i)  # really colour, not gray


# --- the pipeline -------------------------------------------------------------------------


def test_split_is_deterministic_and_disjoint():
    train_a, val_a = split_indices(20, 0.25, seed=3)
    train_b, val_b = split_indices(20, 0.25, seed=3)
    np.testing.assert_array_equal(train_a, train_b)
    np.testing.assert_array_equal(val_a, val_b)
    assert len(val_a) == 5 and not set(train_a) & set(val_a)
    assert not np.array_equal(val_a, split_indices(20, 0.25, seed=4)[1])


def test_training_stream_is_uint8_crops_and_restarts_exactly(tmp_path):
    source = BuiltinPhotos()
    stream = list(training_dataset(source, range(5), 64, batch_size=3, seed=7).take(5))
    assert stream[0].dtype == tf.uint8 and tuple(stream[0].shape) == (3, 64, 64, 3)
    resumed = list(training_dataset(source, range(5), 64, batch_size=3, seed=7, start_step=3).take(2))
    np.testing.assert_array_equal(stream[3], resumed[0])
    np.testing.assert_array_equal(stream[4], resumed[1])
    other = list(training_dataset(source, range(5), 64, batch_size=3, seed=8).take(1))
    assert not np.array_equal(stream[0], other[0])


def test_jitter_flips_and_crops(tmp_path):
    source = BuiltinPhotos()
    plain = next(iter(training_dataset(source, [0], 64, batch_size=8, seed=0, jitter=False)))
    jittered = next(iter(training_dataset(source, [0], 64, batch_size=8, seed=0, jitter=True)))
    plain, jittered = plain.numpy(), jittered.numpy()
    assert all(np.array_equal(plain[0], p) for p in plain)  # no jitter: the same centre crop
    assert len({j.tobytes() for j in jittered}) > 1  # jitter: different crops and flips


def test_validation_dataset_is_centre_crops_in_order(tmp_path):
    write_kaggle_layout(tmp_path, counts=(2, 1, 1))
    source = open_source(tmp_path)
    batches = list(validation_dataset(source, [1, 3], 64, batch_size=4))
    assert len(batches) == 1 and tuple(batches[0].shape) == (2, 64, 64, 3)


def mapped_rss(process, folder):
    """Resident bytes of this process's memory maps of files under `folder`."""
    return sum(m.rss for m in process.memory_maps() if m.path.startswith(str(folder)))


def test_iterating_kaggle_layout_keeps_memory_flat(tmp_path):
    # 3,000 images (450 MB on disk) stream through memory maps whose resident
    # pages are released as the pass goes, instead of piling up to the file size.
    root = tmp_path / "kaggle"
    os.makedirs(root / "l")
    os.makedirs(root / "ab")
    n = 3000
    l8 = np.lib.format.open_memmap(root / "l" / "gray_scale.npy", mode="w+", dtype=np.uint8, shape=(n, 224, 224))
    l8[:] = 90
    l8.flush()
    del l8
    for k, count in enumerate((1200, 1200, 600), start=1):
        ab = np.lib.format.open_memmap(root / "ab" / f"ab{k}.npy", mode="w+", dtype=np.uint8, shape=(count, 224, 224, 2))
        ab[:] = 128
        ab.flush()
        del ab
    source = open_source(root)
    process = psutil.Process()
    before = process.memory_info().rss
    peak_total, peak_mapped = before, 0
    for _ in training_dataset(source, range(n), 64, batch_size=50, jitter=False, seed=0).take(n // 50):
        peak_total = max(peak_total, process.memory_info().rss)
        peak_mapped = max(peak_mapped, mapped_rss(process, root))
    assert peak_mapped < 100 * 2**20, f"mapped npy pages peaked at {peak_mapped / 2**20:.0f} MiB"
    assert peak_total - before < 500 * 2**20, f"resident memory grew by {(peak_total - before) / 2**20:.0f} MiB"


def test_folder_scan_keeps_photos_in_memory_within_the_budget(tmp_path):
    write_photo_folder(tmp_path)
    cached = open_source(tmp_path, cache_short_side=72, cache_budget_bytes=10 * 2**20)
    assert len(cached._cache) == len(cached)
    assert all(min(image.shape[:2]) == 72 for image in cached._cache.values())
    os.remove(os.path.join(tmp_path, cached.paths[0]))  # served from memory: the file is no longer read
    assert min(cached.load(0, 72).shape[:2]) == 72
    over = open_source(tmp_path, cache_short_side=72, cache_budget_bytes=20_000)
    assert over._cache is None  # over budget: nothing kept, files are read as training goes


def test_cache_option_reads_kaggle_arrays_into_memory_and_refuses_what_does_not_fit(tmp_path):
    write_kaggle_layout(tmp_path)
    mapped = open_source(tmp_path)
    cached = open_source(tmp_path, cache=True)
    assert isinstance(mapped.l, np.memmap) and not isinstance(cached.l, np.memmap)
    assert not any(isinstance(a, np.memmap) for a in cached.ab)
    np.testing.assert_array_equal(cached.load(4), mapped.load(4))
    with pytest.raises(DataError, match="--cache: the arrays need .* GiB but .* GiB of memory is available"):
        KaggleNpy(tmp_path, in_memory=True, memory_bytes=1000)


def test_cache_option_on_a_folder_keeps_every_photo_or_fails_up_front(tmp_path):
    write_photo_folder(tmp_path)
    kept = open_source(tmp_path, cache_short_side=72, cache_budget_bytes=0, cache=True)  # budget: free memory
    assert len(kept._cache) == len(kept)
    assert open_source(tmp_path, cache_short_side=72, cache_budget_bytes=10 * 2**20, cache=False)._cache is None
    with pytest.raises(DataError, match="--cache: the photos at short side 72 need more than"):
        PhotoFolder(tmp_path, cache_short_side=72, cache_budget_bytes=20_000, require_cache=True)


def test_fixed_size_sources_are_cropped_on_the_host_at_their_own_size(tmp_path):
    from keras_colorizer.data.pipeline import host_crop_size

    write_kaggle_layout(tmp_path)  # 224x224 arrays
    kaggle = open_source(tmp_path)
    # jitter at 256: resize 224 -> 286 then crop 256 covers a 201x201 window of the 224 image
    assert host_crop_size(kaggle, 256, jitter=True) == (None, 201)
    assert host_crop_size(kaggle, 256, jitter=False) == (None, 224)
    assert host_crop_size(kaggle, 128, jitter=True) == (None, 201)
    batch = next(iter(training_dataset(kaggle, range(len(kaggle)), 256, batch_size=2, seed=0)))
    assert batch.shape == (2, 201, 201, 3) and batch.dtype == np.uint8
    photos = open_source(None)
    assert host_crop_size(photos, 256, jitter=True) == (286, 256)
