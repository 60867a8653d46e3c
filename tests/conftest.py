import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def tiny_options(tmp_path, **overrides):
    """A 3-level U-Net with 8 filters on 64x64 crops: trains in seconds."""
    from keras_colorizer.config import TrainOptions

    values = dict(
        out=str(tmp_path / "runs"), levels=3, ngf=8, ndf=8, n_layers=2, image_size=64,
        batch_size=2, epochs=1, steps_per_epoch=2, samples=2,
    )
    values.update(overrides)
    return TrainOptions(**values)


def run_cli(*args, cwd=REPO, timeout=600, input_signal=None):
    """Run a command line of this project in a fresh Python; return CompletedProcess."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def error_lines(stderr):
    """The lines a user sees from us (TensorFlow's own start-up logs left out)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="session")
def kodak_dir():
    folder = SHARED_DATA / "dev" / "kodak24"
    if not folder.is_dir():
        pytest.skip(f"real photos not found: {folder} is absent (the shared data folder sits beside the repository)")
    return folder


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A tiny run trained for two steps on the built-in photos (session-wide)."""
    from keras_colorizer.training import train

    tmp = tmp_path_factory.mktemp("trained")
    result = train(tiny_options(tmp, name="tiny"), verbose=0)
    return result


@pytest.fixture
def rng():
    return np.random.default_rng(0)
