import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import color as skcolor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# JAX worker processes share their compiled programs: XLA's compilation is most of a short JAX run on a CPU
# (a resumed run's step is the first run's: 83 s -> 19 s measured). Inherited by every subprocess.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"keras-colorizer-tests-jax-{os.getuid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# The tests run a few steps per program, so XLA's compilation, not the program, is the cost: without LLVM's
# optimizations a JAX run's first process took 20 s instead of 79. Same arithmetic, slower code.
XLA_FLAGS = " ".join(filter(None, [os.environ.get("XLA_FLAGS"), "--xla_backend_optimization_level=0"]))
os.environ["XLA_FLAGS"] = XLA_FLAGS

REPO = Path(__file__).resolve().parents[1]


def tiny_options(tmp_path, **overrides):
    """A 3-level U-Net with 8 filters on 64x64 crops: trains in seconds."""
    from keras_colorizer.run.options import TrainOptions

    values = dict(
        out=str(tmp_path / "runs"), generator="unet_128", levels=3, ngf=8, ndf=8, n_layers=2, image_size=64,
        batch_size=2, epochs=1, steps_per_epoch=2, samples=2,
    )
    values.update(overrides)
    return TrainOptions(**values)


def run_cli(*args, cwd=REPO, timeout=600, input_signal=None, extra_env=None):
    """Run a command line of this project in a fresh Python; return CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CONFIG", "KERAS_BACKEND")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", **(extra_env or {}))
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def export_float32_report(run_dir, out):
    """Export a run's float32 TFLite file (TensorFlow backend, in this process) and return its row of the report."""
    from keras_colorizer.cli.export import main as export

    code = export([str(run_dir), "--out", str(out), "--formats", "tflite", "--variants", "float32", "--size", "64"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    return next(row for row in report if row["artifact"].endswith("float32.tflite"))


def indexed_weights(arrays):
    """{(network, index): array} of a training worker's .npz (tests/training_worker.py): layer names are numbered
    per process, so two runs, or two processes, may name a layer apart; the order of the weights does not change."""
    return {(key.split("/")[0], int(key.split("/")[1])): value for key, value in arrays.items() if "_weight/" in key}


def error_lines(stderr):
    """The lines a user sees from us (TensorFlow's own start-up logs left out)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# --- small data sets the tests write: real photo crops, a Kaggle layout, a folder of many formats


def real_crops(count, size=224):
    """`count` centre crops of the built-in photos, uint8 RGB (size x size)."""
    from keras_colorizer.data.builtin import BuiltinPhotos

    photos = BuiltinPhotos()
    crops = []
    for i in range(count):
        image = photos.load(i % len(photos), size)
        top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        crops.append(image[top : top + size, left : left + size])
    return np.stack(crops)


def call_main(module, argv, capsys):
    """Run a command's `main(argv)` in this process: (exit code, stdout, stderr).

    Cheaper than a subprocess (no second TensorFlow start-up); each command
    also has tests that run it as a real process.
    """
    import importlib

    main = importlib.import_module(module).main
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


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


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A tiny run trained for two steps on the built-in photos (session-wide)."""
    from keras_colorizer.run.training import train

    tmp = tmp_path_factory.mktemp("trained")
    result = train(tiny_options(tmp, name="tiny"), verbose=0)
    return result


@pytest.fixture
def rng():
    return np.random.default_rng(0)
