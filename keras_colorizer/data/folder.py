"""Any folder of colour photos, searched recursively."""

import logging
import os
from concurrent.futures import ThreadPoolExecutor

from keras_colorizer.data.errors import DataError
from keras_colorizer.data.images import IMAGE_EXTENSIONS, is_grayscale, read_image, resize_short_side
from keras_colorizer.data.source import ImageSource, ScanReport

log = logging.getLogger(__name__)


def find_image_files(folder, extensions=IMAGE_EXTENSIONS):
    """Every regular file under `folder` with one of `extensions` (photos), sorted (a FIFO or device would block a reader)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(
            path for path in (os.path.join(root, f) for f in sorted(files) if f.lower().endswith(extensions))
            if os.path.isfile(path)
        )
    return found


def _check(path, keep_short_side=None):
    """('ok' | 'gray' | 'bad', reason, the photo resized to `keep_short_side` or None) for one file."""
    try:
        rgb = read_image(path)
    except Exception as error:  # noqa: BLE001 - any decoder failure means unreadable
        return "bad", f"{type(error).__name__}: {error}".splitlines()[0], None
    if is_grayscale(rgb):
        return "gray", "", None
    return "ok", "", (resize_short_side(rgb, keep_short_side) if keep_short_side else None)


class PhotoFolder(ImageSource):
    """Colour photos (JPEG, PNG, BMP, TIFF, WebP) found recursively under `folder`.

    Every file is decoded once when the folder is opened: files that cannot be
    read are skipped with a warning naming them, photos that are really gray
    (R = G = B) are left out and counted. No usable photo is a `DataError`.

    With `cache_short_side`, that scan also keeps each photo resized to that
    short side in memory, as long as all of them fit in `cache_budget_bytes`,
    so training reads no file twice and its first pass runs at the speed of
    the later ones. With `require_cache` (`--cache`), photos that do not fit
    are a `DataError` instead.
    """

    encoding = "rgb"

    def __init__(self, folder, workers=None, cache_short_side=None, cache_budget_bytes=0, require_cache=False):
        super().__init__()
        folder = os.fspath(folder)
        if not os.path.isdir(folder):
            raise DataError(f"{folder}: not a folder of photos (it does not exist or is a file)")
        self.folder = folder
        candidates = find_image_files(folder)
        if not candidates:
            raise DataError(
                f"{folder}: no photos found (searched recursively for {', '.join(IMAGE_EXTENSIONS)})"
            )
        results, kept, kept_bytes = [], [], 0
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
            for status, why, image in pool.map(lambda p: _check(p, cache_short_side), candidates):
                results.append((status, why))
                if status == "ok" and cache_short_side and kept is not None:
                    kept_bytes += image.nbytes
                    if kept_bytes <= cache_budget_bytes:
                        kept.append(image)
                    else:
                        kept = None  # over budget: keep none, read files as training goes
                        if require_cache:
                            raise DataError(
                                f"{folder}: --cache: the photos at short side {cache_short_side} need more than "
                                f"the {cache_budget_bytes / 2**30:.1f} GiB of memory available; train without --cache"
                            )
        self.paths = [p for p, (status, _) in zip(candidates, results) if status == "ok"]
        if cache_short_side and kept is not None:
            self._cache = {(i, int(cache_short_side)): image for i, image in enumerate(kept)}
        self.report = ScanReport(
            used=len(self.paths),
            grayscale_skipped=[p for p, (s, _) in zip(candidates, results) if s == "gray"],
            unreadable=[(p, why) for p, (s, why) in zip(candidates, results) if s == "bad"],
        )
        for path, why in self.report.unreadable:
            log.warning("Skipping unreadable image %s (%s)", path, why)
        if self.report.unreadable:
            log.warning("Skipped %d unreadable file(s) in %s", len(self.report.unreadable), folder)
        if self.report.grayscale_skipped:
            log.info("Left out %d grayscale photo(s) in %s", len(self.report.grayscale_skipped), folder)
        if not self.paths:
            raise DataError(
                f"{folder}: no usable colour photo among {len(candidates)} file(s) "
                f"({self.report.summary()})"
            )
        self.description = f"photo folder {folder} ({self.report.summary()})"

    def __len__(self):
        return len(self.paths)

    def name(self, index):
        return os.path.relpath(self.paths[index], self.folder)

    def _load(self, index):
        return read_image(self.paths[index])
