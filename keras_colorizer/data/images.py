"""Reading photos from disk into 8-bit RGB arrays, and resizing them."""

import re

import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def _to_uint8(array):
    """Scale a 16-bit or float array into 8 bits."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16 or array.dtype.kind in "iu":
        return np.clip(np.round(array.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    if array.dtype.kind == "f":
        return np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    raise ValueError(f"Unsupported pixel type {array.dtype}")


def pil_to_array(image, keep_alpha=False):
    """A PIL image of any mode -> uint8 array (H, W, 3), or (H, W, 4) with `keep_alpha`.

    Palette images are expanded, 16-bit and 32-bit integer modes are scaled to
    8 bits, grayscale is repeated into three channels.
    """
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        gray = _to_uint8(np.asarray(image))
        rgb = np.repeat(gray[..., None], 3, axis=-1)
        alpha = None
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if has_alpha else "RGB")
        array = np.asarray(image)
        array = _to_uint8(array)
        rgb, alpha = array[..., :3], (array[..., 3] if array.shape[-1] == 4 else None)
    if keep_alpha and alpha is not None:
        return np.concatenate([rgb, alpha[..., None]], axis=-1)
    return np.ascontiguousarray(rgb)


def _array_to_rgb(array, keep_alpha):
    """A decoded array (H, W), (H, W, 1..4) of any integer or float depth -> uint8 RGB(A)."""
    array = _to_uint8(np.asarray(array))
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"expected an image with 1 to 4 channels, got shape {array.shape}")
    color = array[..., :1] if array.shape[-1] <= 2 else array[..., :3]
    rgb = np.repeat(color, 3, axis=-1) if color.shape[-1] == 1 else color
    if keep_alpha and array.shape[-1] in (2, 4):
        return np.concatenate([rgb, array[..., -1:]], axis=-1)
    return rgb


def read_image(path, keep_alpha=False):
    """Read a photo file as uint8 RGB (H, W, 3), or RGBA (H, W, 4) with `keep_alpha`.

    Pillow decodes the common formats; 16-bit TIFFs that Pillow cannot open
    go through scikit-image (tifffile). Raises `OSError` or `ValueError` for
    files that are not readable images.
    """
    try:
        with Image.open(path) as image:
            image.load()
            array = pil_to_array(image, keep_alpha=keep_alpha)
    except Image.DecompressionBombError as error:  # a header that claims billions of pixels
        numbers = [f"{int(n):,}" for n in re.findall(r"(\d+) pixels", str(error))]
        detail = f": {numbers[0]} pixels, over the {numbers[1]} read safely" if len(numbers) == 2 else f" ({error})"
        raise ValueError(f"too large to decode{detail}") from None
    except (OSError, ValueError) as pil_error:
        if not str(path).lower().endswith((".tif", ".tiff")):
            raise
        import skimage.io

        try:
            array = _array_to_rgb(skimage.io.imread(path), keep_alpha)
        except Exception:  # noqa: BLE001 - report Pillow's reason, it names the format
            raise pil_error from None
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError("image has zero size")
    return np.ascontiguousarray(array)


def is_grayscale(rgb):
    """True when R = G = B everywhere: a gray photo has no colour to learn from."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def resize_short_side(rgb, short_side):
    """Resize so the shorter side is `short_side` pixels, keeping the aspect.

    Pillow's bilinear filter, which averages over the whole footprint when it
    shrinks (antialiased), and is faster than bicubic (docs/benchmarks.md).
    """
    height, width = rgb.shape[:2]
    scale = short_side / min(height, width)
    size = (max(short_side, round(width * scale)), max(short_side, round(height * scale)))
    if size == (width, height):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
