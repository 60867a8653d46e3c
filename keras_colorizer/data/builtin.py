"""Real colour photographs that installed dependencies ship, so a fresh install trains offline."""

import os

import matplotlib
import skimage.data

from keras_colorizer.data.images import read_image
from keras_colorizer.data.source import ImageSource, ScanReport

# scikit-image's bundled colour photographs (files inside the wheel, no download).
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
)
# matplotlib's bundled sample photograph.
MATPLOTLIB_PHOTOS = ("grace_hopper.jpg",)


def photo_path(name):
    """Where an installed package keeps the built-in photo `name`."""
    if name in SKIMAGE_PHOTOS:
        return os.path.join(skimage.data.data_dir, name)
    return os.path.join(matplotlib.get_data_path(), "sample_data", name)


class BuiltinPhotos(ImageSource):
    """Seven colour photographs shipped by scikit-image and matplotlib."""

    encoding = "rgb"
    description = "built-in photos (scikit-image and matplotlib samples, 7 colour photographs)"

    def __init__(self):
        super().__init__()
        self.names = list(SKIMAGE_PHOTOS) + list(MATPLOTLIB_PHOTOS)
        self.report = ScanReport(used=len(self.names))

    def __len__(self):
        return len(self.names)

    def name(self, index):
        return self.names[index]

    def _load(self, index):
        return read_image(photo_path(self.names[index]))
