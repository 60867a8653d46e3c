"""The Kaggle "image-colorization" arrays: `l/gray_scale.npy` and `ab/ab{1,2,3}.npy`.

The arrays hold 8-bit Lab as OpenCV stores it: L scaled from [0, 100] to
[0, 255], a and b offset by 128 (the dataset's notebooks rebuild colour with
`cv2.cvtColor(lab8, cv2.COLOR_LAB2RGB)`). They are memory-mapped, never
loaded whole: the full set is 25,000 images and 3.7 GB.
"""

import mmap
import os
import threading

import numpy as np

from keras_colorizer.data.errors import DataError
from keras_colorizer.data.source import ImageSource, ScanReport

L_FILE = os.path.join("l", "gray_scale.npy")
# Pages of a memory map that a read touched count as this process's resident
# memory until they are unmapped. Releasing them every so many reads keeps a
# pass over the full 3.7 GB set within a few hundred MB (they stay in the OS
# page cache, so nothing is read twice from disk).
RELEASE_EVERY = 32
AB_FILES = ("ab1.npy", "ab2.npy", "ab3.npy")
AB_FOLDERS = ("ab", os.path.join("ab", "ab"))


def is_kaggle_layout(root):
    """True when `root` looks like the Kaggle layout (it has `l/gray_scale.npy`)."""
    return os.path.isfile(os.path.join(root, L_FILE))


def _open_npy(path):
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error).lower() or "python objects" in str(error).lower():
            raise DataError(
                f"{path}: holds pickled Python objects, expected a plain uint8 array "
                "(pickles are refused: loading one can run arbitrary code)"
            ) from None
        raise DataError(f"{path}: not a readable .npy array ({error})") from None
    except (OSError, EOFError) as error:
        reason = "the file is empty" if os.path.getsize(path) == 0 else error
        raise DataError(f"{path}: not a readable .npy array ({reason})") from None


def _find_ab_files(root):
    for folder in AB_FOLDERS:
        paths = [os.path.join(root, folder, name) for name in AB_FILES]
        present = [p for p in paths if os.path.isfile(p)]
        if present:
            return present
    raise DataError(
        f"{root}: has {L_FILE} but no ab arrays; expected ab/ab1.npy (and ab2.npy, ab3.npy), "
        "or the same under ab/ab/"
    )


class KaggleNpy(ImageSource):
    """The Kaggle colorization arrays under `root`, memory-mapped or (`in_memory`) read into RAM.

    Shapes, dtypes and counts are checked when the set is opened: L must be
    (N, H, W) uint8, each ab file (n_i, H, W, 2) uint8, and the n_i must add
    up to N. `in_memory` fails up front when the arrays need more than
    `memory_bytes`.
    """

    encoding = "lab8"

    def __init__(self, root, in_memory=False, memory_bytes=None):
        super().__init__()
        root = os.fspath(root)
        l_path = os.path.join(root, L_FILE)
        if not os.path.isfile(l_path):
            raise DataError(f"{root}: not the Kaggle layout, expected {L_FILE}")
        self.root = root
        self.l = _open_npy(l_path)
        if self.l.dtype != np.uint8 or self.l.ndim != 3:
            raise DataError(
                f"{l_path}: holds {self.l.dtype} {self.l.shape}, expected uint8 (N, H, W) grayscale L"
            )
        height, width = self.l.shape[1:]
        self.ab_paths = _find_ab_files(root)
        self.ab = []
        for path in self.ab_paths:
            array = _open_npy(path)
            if array.dtype != np.uint8 or array.ndim != 4 or array.shape[1:] != (height, width, 2):
                raise DataError(
                    f"{path}: holds {array.dtype} {array.shape}, expected uint8 (n, {height}, {width}, 2)"
                )
            self.ab.append(array)
        counts = [a.shape[0] for a in self.ab]
        if sum(counts) != self.l.shape[0]:
            detail = " + ".join(f"{os.path.basename(p)} {c}" for p, c in zip(self.ab_paths, counts))
            raise DataError(
                f"{l_path}: holds {self.l.shape[0]} L images but the ab files hold {sum(counts)} "
                f"({detail}); expected the same count"
            )
        if self.l.shape[0] == 0:
            raise DataError(f"{l_path}: holds no images")
        if in_memory:
            self._read_into_memory(memory_bytes)
        self.native_size = (int(height), int(width))
        self._starts = np.cumsum([0] + counts)
        self._reads = 0
        self._lock = threading.Lock()
        self.report = ScanReport(used=int(self.l.shape[0]))
        self.description = f"Kaggle arrays {root} ({self.l.shape[0]} images of {height}x{width})"

    def _read_into_memory(self, memory_bytes):
        need = self.l.nbytes + sum(a.nbytes for a in self.ab)
        if memory_bytes is not None and need > memory_bytes:
            raise DataError(
                f"{self.root}: --cache: the arrays need {need / 2**30:.1f} GiB but {memory_bytes / 2**30:.1f} GiB "
                "of memory is available; train without --cache (they are memory-mapped then)"
            )
        self.l = np.array(self.l)  # a copy in RAM (subok=False: a plain array, not a memmap)
        self.ab = [np.array(a) for a in self.ab]

    def __len__(self):
        return int(self.l.shape[0])

    def name(self, index):
        return f"#{index}"

    def _load(self, index):
        part = int(np.searchsorted(self._starts, index, side="right") - 1)
        ab = self.ab[part][index - self._starts[part]]
        image = np.concatenate([self.l[index][..., None], ab], axis=-1)
        with self._lock:
            self._reads += 1
            release = self._reads % RELEASE_EVERY == 0
        if release:
            self.release_pages()
        return image

    def release_pages(self):
        """Drop the mapped pages from this process's resident memory (Linux; a no-op elsewhere)."""
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if advice is None:
            return
        for array in [self.l, *self.ab]:
            mapping = getattr(array, "_mmap", None)
            if mapping is not None:
                mapping.madvise(advice)
