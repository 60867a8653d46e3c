"""bench/phone_latency.py: the shipped phone file timed in alternating rounds, one JSON line; a missing file is one line."""

import json
import os
import subprocess
import sys

from keras_colorizer.presets import DEFAULT_PRESET, preset_path
from tests.conftest import REPO, error_lines

SCRIPT = str(REPO / "bench" / "phone_latency.py")


def test_it_times_each_file_in_each_round(tmp_path):
    phone = os.path.join(preset_path(DEFAULT_PRESET), "colorizer_int8.tflite")
    done = subprocess.run([sys.executable, SCRIPT, phone, "--runs", "2", "--rounds", "2", "--threads", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    timed = result["files"][phone]
    assert timed["mib"] == round(os.path.getsize(phone) / 2**20, 2)
    assert len(timed["ms"]) == 2 and all(set(r) == {"1"} and r["1"] > 0 for r in timed["ms"])
    assert result["machine"]

    missing = str(tmp_path / "nope.tflite")
    done = subprocess.run([sys.executable, SCRIPT, missing], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and error_lines(done.stderr) == [f"error: {missing}: no such TFLite file"]
