"""Any folder of colour photos, searched recursively."""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from keras_colorizer.data.errors import DataError
from keras_colorizer.data.images import IMAGE_EXTENSIONS, is_grayscale, read_image, resize_short_side
from keras_colorizer.data.source import ImageSource, ScanReport

log = logging.getLogger(__name__)

# Folders with at most this many files are decoded and checked when opened: every bad file is named
# before the first step. Larger ones are checked as training reads them: a scan of Tiny ImageNet's
# 101,000 files took 58 s before the first step, listing them takes 1.2-1.8 s (docs/benchmarks.md).
CHECK_ON_OPEN_LIMIT = 5000


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


def _inspect(path):
    """('ok', '', the photo) | ('gray', '', None) | ('bad', reason, None) for one file."""
    try:
        rgb = read_image(path)
    except Exception as error:  # noqa: BLE001 - any decoder failure means unreadable
        return "bad", f"{type(error).__name__}: {error}".splitlines()[0], None
    if is_grayscale(rgb):
        return "gray", "", None
    return "ok", "", rgb


def _check(path, keep_short_side=None):
    """('ok' | 'gray' | 'bad', reason, the photo resized to `keep_short_side` or None) for one file."""
    status, why, rgb = _inspect(path)
    return status, why, (resize_short_side(rgb, keep_short_side) if keep_short_side and rgb is not None else None)


class PhotoFolder(ImageSource):
    """Colour photos (JPEG, PNG, BMP, TIFF, WebP) found recursively under `folder`.

    A folder of at most `CHECK_ON_OPEN_LIMIT` files is decoded once when it
    is opened: files that cannot be read are skipped with a warning naming
    them, photos that are really gray (R = G = B) are left out and counted.
    No usable photo is a `DataError`.

    With `cache_short_side`, that scan also keeps each photo resized to that
    short side in memory, as long as all of them fit in `cache_budget_bytes`,
    so training reads no file twice and its first pass runs at the speed of
    the later ones. With `require_cache` (`--cache`), photos that do not fit
    are a `DataError` instead.

    A larger folder is only listed when opened; each file is checked when it
    is first read. A file that cannot be read, or a gray photo, is then
    replaced by the next usable file in the listing (the same one every
    time, so a resumed run sees what an unbroken one did) and named once in
    a warning; `report` counts what was found so far. `check_on_open`
    forces either behaviour.
    """

    encoding = "rgb"

    def __init__(self, folder, workers=None, cache_short_side=None, cache_budget_bytes=0, require_cache=False,
                 check_on_open=None):
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
        if check_on_open is None:
            check_on_open = len(candidates) <= CHECK_ON_OPEN_LIMIT
        self._lock = threading.Lock()
        self.checked_on_open = bool(check_on_open)
        if not check_on_open:
            self.paths = candidates
            self.report = ScanReport(used=len(candidates))
            self._found_bad = {}  # index -> ("gray" | "bad", reason), filled as files are read
            self.description = f"photo folder {folder} ({len(candidates)} files, checked as they are read)"
            return
        self._scan(candidates, workers, cache_short_side, cache_budget_bytes, require_cache)

    def _scan(self, candidates, workers, cache_short_side, cache_budget_bytes, require_cache):
        folder = self.folder
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
        if self.checked_on_open:
            return read_image(self.paths[index])
        for tried in range(len(self.paths)):
            candidate = (index + tried) % len(self.paths)
            if candidate in self._found_bad:
                continue
            status, why, rgb = _inspect(self.paths[candidate])
            if status == "ok":
                return rgb
            self._leave_out(candidate, status, why)
        raise DataError(f"{self.folder}: no usable colour photo among {len(self.paths)} file(s) ({self.report.summary()})")

    def usable(self, index):
        """Whether photo `index` is a readable colour photo (checked now, where the folder was not scanned)."""
        if self.checked_on_open:
            return True
        if index not in self._found_bad:
            status, why, _ = _inspect(self.paths[index])
            if status != "ok":
                self._leave_out(index, status, why)
        return index not in self._found_bad

    def _leave_out(self, index, status, why):
        """Note a file found unreadable or gray while training reads it, and name it once."""
        with self._lock:
            if index in self._found_bad:
                return
            self._found_bad[index] = (status, why)
            path = self.paths[index]
            if status == "bad":
                self.report.unreadable.append((path, why))
                log.warning("Skipping unreadable image %s (%s); the next photo takes its place", path, why)
            else:
                self.report.grayscale_skipped.append(path)
                log.info("Left out grayscale photo %s; the next photo takes its place", path)
            self.report.used -= 1
