"""Shared by the benchmarks: where the shared data lives, machine description, JSON output."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def machine():
    """A one-line description of this machine for the benchmark record."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(values):
    """Print one JSON line with the machine added."""
    print(json.dumps({"machine": machine(), **values}))


REFERENCE_SCRIPT = SHARED / "bench" / "ref_pix2pix_torch.py"
REFERENCE_LEVELS = {"unet_256": 8, "unet_128": 7}  # the reference's --downs for each U-Net generator


def torch_unavailable():
    """Why the PyTorch reference cannot run here, or None when it can."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return "PyTorch is not installed (pip install torch==2.13.0)"
    if not REFERENCE_SCRIPT.is_file():
        return f"{REFERENCE_SCRIPT} not found"
    return None


def torch_reference_command(generator, size, batch, steps, infer, ngf=64, amp=False):
    """The command line that runs ../shared/bench/ref_pix2pix_torch.py with this shape."""
    import torch

    command = [sys.executable, str(REFERENCE_SCRIPT), "--size", str(size), "--batch", str(batch), "--steps", str(steps),
               "--infer", str(infer), "--downs", str(REFERENCE_LEVELS[generator]), "--ngf", str(ngf),
               "--device", "cuda" if torch.cuda.is_available() else "cpu"]
    return command + ["--amp"] if amp else command


def torch_reference(generator, size, batch, steps, infer, ngf=64, amp=False):
    """Run the PyTorch reference with this shape in its own process; its JSON, or why it was skipped."""
    reason = torch_unavailable()
    if reason:
        return {"skipped": reason}
    command = torch_reference_command(generator, size, batch, steps, infer, ngf, amp)
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def add_ratios(result, names):
    """Add `<name>_ratio_keras_over_torch` for each figure both sides measured."""
    keras_side, torch_side = result["keras"], result.get("torch", {})
    for name in names:
        if name in keras_side and name in torch_side:
            result[f"{name}_ratio_keras_over_torch"] = round(keras_side[name] / torch_side[name], 3)
