"""Photos for the demo page: read and colorized once, then drawn as PNG files at any saturation."""

import dataclasses
import os
import shutil
import tempfile

from PIL import Image

from keras_colorizer.data.images import read_image
from keras_colorizer.errors import first_line


@dataclasses.dataclass
class Photo:
    """One uploaded photo: its name and what the network said about it (`inference.Prediction`)."""

    name: str
    prediction: object


def load_photos(colorizer, paths, seen=None):
    """The photos of `paths`, each colorized once: ([Photo], [one line per file that is not a readable photo], seen).

    `seen` ({path: Photo or message}) carries what earlier calls found: the
    photo box sends every file it holds each time one is added, and those
    are not read or run through the network again.
    """
    seen = seen or {}
    seen = {path: seen[path] if path in seen else _load(colorizer, path) for path in paths or []}  # the box's files only
    found = list(seen.values())
    return [x for x in found if isinstance(x, Photo)], [x for x in found if isinstance(x, str)], seen


def _load(colorizer, path):
    name = os.path.basename(path)
    try:
        image = read_image(path, keep_alpha=True)
    except Exception as error:  # noqa: BLE001 - any unreadable upload gets its line; the rest go on
        reason = first_line(error).replace(f" '{path}'", "").replace(str(path), name)  # no server path on the page
        return f"{name}: not a photo this page can read ({reason})"
    return Photo(name, colorizer.predict(image))


class Drawings:
    """PNG files of one page session's photos at one saturation, replaced at each redraw (the previous set removed).

    PNGs are written with zlib level 1: a 1-megapixel photo in about 80 ms
    instead of 300 at Pillow's default, for files about a third larger.
    """

    def __init__(self):
        self.folder = None
        self.written = {}

    def draw(self, colorizer, photos, saturation, gray=False):
        """Write each photo in colour at `saturation` (or its gray) as PNG: [(path, name)], in upload order."""
        self.clear()
        self.folder = tempfile.mkdtemp(prefix="keras-colorizer-demo-")
        self.colorizer, self.photos, self.saturation = colorizer, photos, saturation
        return [(self.path(index, gray), photo.name) for index, photo in enumerate(photos)]

    def pair(self, index):
        """(gray, colour) PNG paths of photo `index` (each written once per draw)."""
        return self.path(index, gray=True), self.path(index, gray=False)

    def path(self, index, gray):
        key = (index, gray)
        if key not in self.written:
            photo = self.photos[index]
            stem = os.path.splitext(photo.name)[0] or "photo"
            path = os.path.join(self.folder, f"{index:03d}_{stem}_{'gray' if gray else 'colour'}.png")
            Image.fromarray(photo_pixels(self.colorizer, photo, self.saturation, gray)).save(path, compress_level=1)
            self.written[key] = path
        return self.written[key]

    def clear(self):
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder, self.written = None, {}


def photo_pixels(colorizer, photo, saturation, gray=False):
    """uint8 RGB(A) of a photo at `saturation`, or its gray (its own L, no colour), without the network."""
    return colorizer.render(photo.prediction, 0.0 if gray else saturation)
