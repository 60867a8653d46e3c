"""Training data: the Kaggle arrays, any folder of photos, the built-in photos; and the tf.data pipeline."""

import os

from keras_colorizer.data.builtin import BuiltinPhotos
from keras_colorizer.data.errors import DataError
from keras_colorizer.data.folder import PhotoFolder
from keras_colorizer.data.kaggle import KaggleNpy, is_kaggle_layout
from keras_colorizer.data.pipeline import load_crops, load_size, training_dataset, validation_dataset
from keras_colorizer.data.source import ImageSource, split_indices


def open_source(data=None, cache_short_side=None, cache_budget_bytes=0):
    """The data source `--data` names: None -> built-in photos; the Kaggle layout; a photo folder.

    With `cache_short_side`, photos are kept in memory resized to that short
    side while they fit in `cache_budget_bytes` (the Kaggle arrays are
    memory-mapped instead).
    """
    if data is None or str(data) == "builtin":
        source = BuiltinPhotos()
        if cache_short_side:
            source.enable_cache()  # seven photos
        return source
    data = os.fspath(data)
    if not os.path.exists(data):
        raise DataError(f"{data}: no such file or folder (expected a folder of photos or the Kaggle layout)")
    if not os.path.isdir(data):
        raise DataError(f"{data}: is a file, expected a folder of photos or the Kaggle layout (l/, ab/)")
    if is_kaggle_layout(data):
        return KaggleNpy(data)
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
