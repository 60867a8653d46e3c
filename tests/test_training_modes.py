"""Mixed precision and XLA with several steps per execution: train, resume, export. (JAX: tests/test_jax.py.)"""

import os

import keras
import numpy as np
import pytest

from keras_colorizer.run.training import train
from tests.conftest import export_float32_report, tiny_options


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


def test_mixed_bfloat16_trains_without_loss_scaling(tmp_path):
    from keras_colorizer.run import distribute
    from keras_colorizer.run.options import OptionError, TrainOptions

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
