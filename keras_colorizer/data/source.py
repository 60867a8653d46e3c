"""What every data source offers to the training pipeline."""

from dataclasses import dataclass, field

import numpy as np

from keras_colorizer.data.images import resize_short_side


@dataclass
class ScanReport:
    """What a source found when it was opened: used, left out and why."""

    used: int
    grayscale_skipped: list = field(default_factory=list)
    unreadable: list = field(default_factory=list)  # (path, reason)

    def summary(self):
        parts = [f"{self.used} usable"]
        if self.grayscale_skipped:
            parts.append(f"{len(self.grayscale_skipped)} grayscale left out")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable skipped")
        return ", ".join(parts)


class ImageSource:
    """A finite, indexable set of colour images.

    Subclasses set `encoding` ("rgb": sRGB uint8; "lab8": OpenCV 8-bit Lab
    uint8, channels L, a, b) and implement `__len__`, `name(i)` and
    `_load(i)`, which returns a uint8 (H, W, 3) array in that encoding.
    """

    encoding = "rgb"
    description = "images"
    # (height, width) when every image has this one size (then the pipeline
    # crops at that size and the training step resizes); None otherwise.
    native_size = None

    def __init__(self):
        self.report = ScanReport(used=0)
        self._cache = None

    def __len__(self):
        raise NotImplementedError

    def name(self, index):
        raise NotImplementedError

    def _load(self, index):
        raise NotImplementedError

    def usable(self, index):
        """False for an image found unreadable or gray on reading (sources that check as they read)."""
        return True

    def enable_cache(self):
        """Keep each image in memory, as first resized, after its first load."""
        self._cache = {}

    def load(self, index, short_side=None):
        """Image `index` as uint8 (H, W, 3), resized so its short side is `short_side`."""
        index = int(index)
        key = (index, short_side)
        if self._cache is not None and key in self._cache:
            return self._cache[key]
        image = self._load(index)
        if short_side is not None:
            image = resize_short_side(image, int(short_side))
        if self._cache is not None:
            self._cache[key] = image
        return image


def split_indices(count, val_split, seed, val_max=0):
    """Deterministic train / validation split of `count` items by `seed`.

    Returns (train_indices, val_indices), sorted. With `val_split > 0` at
    least one item goes to validation and at least one stays for training;
    `val_max` (0: no limit) caps how many are held out.
    """
    if not 0.0 <= val_split < 1.0:
        raise ValueError(f"val_split must be in [0, 1). Received: val_split={val_split}")
    order = np.random.default_rng(seed).permutation(count)
    n_val = int(round(count * val_split))
    if val_split > 0:
        n_val = min(max(n_val, 1), count - 1)
    if val_max:
        n_val = min(n_val, int(val_max))
    return np.sort(order[n_val:]), np.sort(order[:n_val])
