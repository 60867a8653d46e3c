"""Small data sets the tests write: a Kaggle layout and a folder of photos in many formats."""

import os
import struct
import zlib

import numpy as np
from PIL import Image
from skimage import color as skcolor

from keras_colorizer.data.builtin import BuiltinPhotos


def real_crops(count, size=224):
    """`count` centre crops of the built-in photos, uint8 RGB (size x size)."""
    photos = BuiltinPhotos()
    crops = []
    for i in range(count):
        image = photos.load(i % len(photos), size)
        top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        crops.append(image[top : top + size, left : left + size])
    return np.stack(crops)


def to_lab8(rgb):
    """uint8 RGB -> OpenCV 8-bit Lab (L*255/100, a+128, b+128)."""
    lab = skcolor.rgb2lab(rgb)
    l8 = np.clip(np.round(lab[..., 0] * 255.0 / 100.0), 0, 255).astype(np.uint8)
    ab8 = np.clip(np.round(lab[..., 1:] + 128.0), 0, 255).astype(np.uint8)
    return l8, ab8


def write_kaggle_layout(root, counts=(3, 2, 1), nested=False, size=224):
    """The Kaggle layout with real photo crops: l/gray_scale.npy and ab/ab{1,2,3}.npy."""
    rgb = real_crops(sum(counts), size)
    l8, ab8 = to_lab8(rgb)
    os.makedirs(os.path.join(root, "l"), exist_ok=True)
    ab_dir = os.path.join(root, "ab", "ab") if nested else os.path.join(root, "ab")
    os.makedirs(ab_dir, exist_ok=True)
    np.save(os.path.join(root, "l", "gray_scale.npy"), l8)
    start = 0
    for n, count in enumerate(counts, start=1):
        np.save(os.path.join(ab_dir, f"ab{n}.npy"), ab8[start : start + count])
        start += count
    return rgb


def write_png16(path, rgb16):
    """A 16-bit RGB PNG (Pillow cannot write one)."""
    height, width, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_photo_folder(root):
    """JPEG, PNG, RGBA, palette, 16-bit, WebP, BMP, TIFF colour photos; plus gray, corrupt and empty files.

    Returns a dict of what a scan must find.
    """
    crops = real_crops(4, 96)
    sub = os.path.join(root, "nested", "deeper")
    os.makedirs(sub, exist_ok=True)
    Image.fromarray(crops[0]).save(os.path.join(root, "photo.jpg"), quality=95)
    Image.fromarray(crops[1]).save(os.path.join(root, "photo.png"))
    rgba = np.concatenate([crops[2], np.full((96, 96, 1), 200, np.uint8)], axis=-1)
    Image.fromarray(rgba).save(os.path.join(sub, "alpha.png"))
    Image.fromarray(crops[3]).convert("P", palette=Image.ADAPTIVE).save(os.path.join(sub, "palette.png"))
    write_png16(os.path.join(root, "deep16.png"), crops[0].astype(np.uint16) * 257)
    Image.fromarray(crops[1]).save(os.path.join(root, "photo.webp"))
    Image.fromarray(crops[2]).save(os.path.join(root, "photo.bmp"))
    Image.fromarray(crops[3]).save(os.path.join(root, "photo.tiff"))
    gray = np.repeat(crops[0][..., :1], 3, axis=-1)
    Image.fromarray(gray).save(os.path.join(root, "gray_rgb.png"))
    Image.fromarray(crops[0][..., 0]).save(os.path.join(root, "gray_l.jpg"))
    with open(os.path.join(root, "corrupt.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    open(os.path.join(root, "empty.png"), "wb").close()
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not a photo")
    return {"usable": 8, "gray": 2, "unreadable": {"corrupt.jpg", "empty.png"}}
