"""Mixed precision, XLA with several steps per execution, and the JAX backend: train, resume, export."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_colorizer.training import train
from tests.conftest import REPO, XLA_FLAGS, run_cli, tiny_options


def export_float32_report(run_dir, out):
    """Export a run's float32 TFLite file (TensorFlow backend) and return its row of the report."""
    result = run_cli("-m", "keras_colorizer.export", str(run_dir), "--out", str(out), "--formats", "tflite",
                     "--variants", "float32", "--size", "64")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    return next(row for row in report if row["artifact"].endswith("float32.tflite"))


def test_mixed_float16_scales_both_losses_resumes_and_exports(tmp_path):
    options = tiny_options(tmp_path, precision="mixed_float16", epochs=2, steps_per_epoch=2)
    first = train(options, max_steps=2, verbose=0)
    model = first.model
    assert keras.config.dtype_policy().name == "float32"  # the run's policy does not leak out
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert float(optimizer.dynamic_scale.numpy()) > 1.0
    assert model.generator.get_layer("down2_conv").compute_dtype == "float16"
    assert model.generator.get_layer("down2_conv").kernel.dtype == "float32"
    assert model.generator.output.dtype == "float32" and model.discriminator.output.dtype == "float32"
    assert int(model.steps_taken.numpy()) == 2
    assert all(np.isfinite(v).all() for v in first.history.values())

    resumed = train(resume=first.run_dir, verbose=0)
    assert resumed.steps == 4
    assert os.path.basename(resumed.checkpoint) == "step-0000004"
    assert isinstance(resumed.model.g_optimizer, keras.optimizers.LossScaleOptimizer)

    row = export_float32_report(first.run_dir, tmp_path / "export")
    assert row["agreement_psnr_db"] > 45.0


def test_xla_with_several_steps_per_execution_counts_every_step(tmp_path):
    options = tiny_options(tmp_path, jit_compile=True, steps_per_execution=2, epochs=2, steps_per_epoch=4)
    result = train(options, verbose=0)
    assert result.model.jit_compile is True and result.model.steps_per_execution == 2
    assert result.steps == 8 == int(result.model.g_optimizer.iterations.numpy())
    assert os.path.basename(result.checkpoint) == "step-0000008"
    assert len(result.history["g_l1"]) == 2 and all(np.isfinite(result.history["g_l1"]))
    stopped = train(tiny_options(tmp_path, steps_per_execution=2, epochs=2, steps_per_epoch=4), max_steps=3, verbose=0)
    assert stopped.steps in (3, 4)  # stops at the end of the execution that reached step 3


# --- the JAX backend, in processes of its own


def run_jax_worker(tmp_path, name, *args, env=None):
    save = tmp_path / f"{name}.npz"
    environment = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    environment.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    result = subprocess.run([sys.executable, "-m", "tests.training_worker", *args, "--save", str(save)],
                            cwd=REPO, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return dict(np.load(save))


def optimizer_values(result, prefix, kind):
    return [v for k, v in result.items() if k.startswith(f"{prefix}_optimizer/") and k.endswith(kind)]


# Batch 4 (two per device under data_parallel), no dropout, the paper's learning rate.
JAX_OPTIONS = dict(generator="unet_128", levels=3, ngf=8, ndf=8, n_layers=2, image_size=64, batch_size=4, epochs=1,
                   steps_per_epoch=3, samples=2, dropout=0.0, lr=2e-4)
TWO_DEVICES = {"XLA_FLAGS": f"{XLA_FLAGS} --xla_force_host_platform_device_count=2"}


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    """A JAX run stopped after 2 of its 3 steps and resumed (one device of two)."""
    tmp_path = tmp_path_factory.mktemp("jax")
    options = dict(JAX_OPTIONS, out=str(tmp_path / "runs"))
    first = run_jax_worker(tmp_path, "first", "--options", json.dumps(options), "--max-steps", "2", env=TWO_DEVICES)
    resumed = run_jax_worker(tmp_path, "resumed", "--resume", str(first["run_dir"]), env=TWO_DEVICES)
    return tmp_path, first, resumed


def test_jax_backend_carries_both_optimizers_state(jax_run):
    _, first, resumed = jax_run
    assert str(first["backend"]) == "jax"
    for result, steps in ((first, 2), (resumed, 3)):
        assert int(result["steps_taken"]) == steps
        for prefix in ("g", "d"):
            (iterations,) = optimizer_values(result, prefix, "iteration")
            assert int(iterations) == steps, prefix  # each optimizer stepped every time, none dropped
            moments = optimizer_values(result, prefix, "_momentum") + optimizer_values(result, prefix, "_velocity")
            assert moments and all(np.abs(m).max() > 0 for m in moments), prefix
    # Resuming restored both states and went on: the moments kept changing.
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(optimizer_values(first, "d", "_velocity"), optimizer_values(resumed, "d", "_velocity"))
    )


def test_a_run_trained_under_jax_exports_through_tensorflow(jax_run):
    tmp_path, _, resumed = jax_run
    row = export_float32_report(str(resumed["run_dir"]), tmp_path / "export")
    assert row["agreement_psnr_db"] > 45.0 and row["colorization_psnr_db"] > 10.0


def test_jax_data_parallel_over_two_devices_trains_like_one(jax_run, tmp_path):
    # The one-device reference is the fixture's run, stopped and resumed: resuming is exact too.
    _, _, single = jax_run
    options = dict(JAX_OPTIONS, out=str(tmp_path / "runs"), strategy="data_parallel")
    parallel = run_jax_worker(tmp_path, "parallel", "--options", json.dumps(options), env=TWO_DEVICES)
    assert int(parallel["steps_taken"]) == int(single["steps_taken"]) == 3
    for prefix in ("g", "d"):
        (iterations,) = optimizer_values(parallel, prefix, "iteration")
        assert int(iterations) == 3
    for key in (k for k in parallel if "_weight/" in k):
        # At the paper's learning rate, as in tests/test_distribute.py: at 10x it, a few
        # discriminator entries whose gradients are near zero differed by up to 1.4e-4,
        # Adam's step (about lr, whatever the gradient) carrying the order of the sums.
        np.testing.assert_allclose(parallel[key], single[key], atol=1e-5, err_msg=key)


def test_mixed_bfloat16_trains_without_loss_scaling(tmp_path):
    from keras_colorizer import distribute
    from keras_colorizer.config import OptionError, TrainOptions

    try:
        distribute.check_bfloat16_support("tensorflow")
    except OptionError as error:
        pytest.skip(f"this machine has no bfloat16 arithmetic: {error}")
    result = train(tiny_options(tmp_path, precision="mixed_bfloat16"), verbose=0)
    model = result.model
    assert model.generator.get_layer("down2_conv").compute_dtype == "bfloat16"
    assert not isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)  # bfloat16 has float32's range
    assert result.steps == 2 and all(np.isfinite(v).all() for v in result.history.values())
    assert TrainOptions.load(os.path.join(result.run_dir, "options.json")).precision == "mixed_bfloat16"
