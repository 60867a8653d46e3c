"""Training data: the Kaggle arrays, any folder of photos, the built-in photos; and the tf.data pipeline."""

import os

from keras_colorizer.data.builtin import BuiltinPhotos
from keras_colorizer.data.errors import DataError
from keras_colorizer.data.folder import PhotoFolder
from keras_colorizer.data.kaggle import KaggleNpy, is_kaggle_layout
from keras_colorizer.data.pipeline import load_crops, load_size, training_dataset, validation_dataset
from keras_colorizer.data.source import ImageSource, split_indices


def available_memory_bytes():
    """Physical memory free for new allocations (Linux; None where unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def open_source(data=None, cache_short_side=None, cache_budget_bytes=0, cache=None):
    """The data source `--data` names: None -> built-in photos; the Kaggle layout; a photo folder.

    Args:
        data: a photo folder, the Kaggle layout, or None for the built-in photos.
        cache_short_side: short side photos are kept in memory at.
        cache_budget_bytes: with `cache=None`, photos are kept in memory
            while they all fit in this many bytes (the Kaggle arrays are
            memory-mapped).
        cache: True keeps everything in memory (a photo folder whatever its
            size, the Kaggle arrays read into RAM) and fails up front when
            it would not fit; False keeps nothing (files are read as training
            goes); None decides by `cache_budget_bytes`.
    """
    if data is None or str(data) == "builtin":
        source = BuiltinPhotos()
        if cache_short_side and cache is not False:
            source.enable_cache()  # seven photos
        return source
    data = os.fspath(data)
    if not os.path.exists(data):
        raise DataError(f"{data}: no such file or folder (expected a folder of photos or the Kaggle layout)")
    if not os.path.isdir(data):
        raise DataError(f"{data}: is a file, expected a folder of photos or the Kaggle layout (l/, ab/)")
    if is_kaggle_layout(data):
        return KaggleNpy(data, in_memory=bool(cache), memory_bytes=available_memory_bytes())
    if cache is False:
        return PhotoFolder(data)
    if cache:
        return PhotoFolder(
            data, cache_short_side=cache_short_side, cache_budget_bytes=available_memory_bytes(), require_cache=True
        )
    return PhotoFolder(data, cache_short_side=cache_short_side, cache_budget_bytes=cache_budget_bytes)


__all__ = [
    "BuiltinPhotos",
    "DataError",
    "ImageSource",
    "KaggleNpy",
    "PhotoFolder",
    "load_crops",
    "load_size",
    "open_source",
    "split_indices",
    "training_dataset",
    "validation_dataset",
]
