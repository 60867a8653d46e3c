"""Training data: the Kaggle arrays, any folder of photos, the built-in photos; and the tf.data pipeline."""

import os

import numpy as np

from keras_colorizer.data.builtin import BuiltinPhotos
from keras_colorizer.data.errors import DataError
from keras_colorizer.data.folder import PhotoFolder
from keras_colorizer.data.kaggle import KaggleNpy, is_kaggle_layout
from keras_colorizer.data.mixed import MixedSource
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


def open_training_data(paths, weights=None, val_data=None, val_split=0.15, val_max=0, seed=0, **cache):
    """The images a run trains and validates on: (source, train indices, validation indices, pass counts).

    Args:
        paths: the `--data` sources (None: the built-in photos); several
            are read as one `MixedSource`.
        weights: each source's share of the training stream (None: every
            image equally often).
        val_data: a photo folder to validate on; then nothing is held out
            of `paths`.
        val_split, val_max, seed: the held-out share of `paths`, capped at
            `val_max` photos (0: no cap), or the cap on `val_data`.
        cache: `open_source`'s caching arguments, for each source.

    Pass counts are `training_dataset`'s, None unless `weights` are given.
    Validation photos that turn out unreadable or gray are left out.
    """
    paths = list(paths) if isinstance(paths, (list, tuple)) else [paths]
    sources = [open_source(path, **cache) for path in paths]
    labels = [str(path or "builtin") for path in paths]
    if val_data is not None:
        sources.append(open_source(val_data, **cache))
        labels.append(str(val_data))
        weights = None if weights is None else list(weights) + [0]
    source = sources[0] if len(sources) == 1 else MixedSource(sources, labels, weights)
    if val_data is not None:
        training = MixedSource(sources[:-1], labels[:-1], weights and weights[:-1]) if len(sources) > 2 else sources[0]
        source.description = f"{training.description}; validation photos from {sources[-1].description}"
    if val_data is None:
        train_idx, val_idx = split_indices(len(source), val_split, seed, val_max)
    else:
        first_val = int(source.starts[-2])
        train_idx = np.arange(first_val)
        val_idx = first_val + np.arange(len(sources[-1]))
        if val_max:
            val_idx = np.sort(np.random.default_rng(seed).permutation(val_idx)[:val_max])
    val_idx = np.asarray([i for i in val_idx if source.usable(i)], dtype=np.int64)
    pass_counts = source.pass_counts(train_idx) if isinstance(source, MixedSource) else None
    return source, train_idx, val_idx, pass_counts


__all__ = [
    "BuiltinPhotos",
    "DataError",
    "ImageSource",
    "KaggleNpy",
    "MixedSource",
    "PhotoFolder",
    "load_crops",
    "load_size",
    "open_source",
    "open_training_data",
    "split_indices",
    "training_dataset",
    "validation_dataset",
]
