"""Strategies: two CPU replicas train like one device, two workers stay in step, bad placements exit 2."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from keras_colorizer.run import distribute
from keras_colorizer.run.options import OptionError, TrainOptions
from tests.conftest import REPO, call_main, error_lines, indexed_weights

# BatchNorm and no dropout: dropout draws its masks per replica, so only the
# update rule, not the randomness, can match a single device. The paper's
# learning rate: Adam moves a weight by about lr per step whatever the size of
# its gradient, so where a gradient is near zero the order in which the
# replicas' sums were added shows up in proportion to lr. At 10x this rate
# single weights differed by 1.1e-5 (vanilla loss, Xeon with AMX) and 1.6e-5
# (LSGAN, EPYC) after 3 steps; at 2e-4 the largest difference is 8.8e-7,
# while the weights move by up to 6e-4.
TINY = dict(generator="unet_128", levels=3, ngf=8, ndf=8, n_layers=2, image_size=64, batch_size=4, epochs=1,
            steps_per_epoch=3, samples=2, dropout=0.0, lr=2e-4)


def start_worker(tmp_path, name, options, extra_env=None, logical_cpus=0):
    save = tmp_path / f"{name}.npz"
    args = [sys.executable, "-m", "tests.training_worker", "--options", json.dumps(options), "--save", str(save)]
    if logical_cpus:
        args += ["--logical-cpus", str(logical_cpus)]
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", **(extra_env or {}))
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, save


def finish(process, save, timeout=300):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]
    return dict(np.load(save)), output


@pytest.fixture(scope="module")
def mirrored_and_single(tmp_path_factory):
    """The same run on two CPU replicas and on one device, one after the other in one process (its start-up,
    TensorFlow's, is much of a short run): {strategy: (its .npz, the process's log)}."""
    tmp_path = tmp_path_factory.mktemp("mirrored")
    saves = {strategy: tmp_path / f"{strategy}.npz" for strategy in ("mirrored", "none")}
    jobs = [dict(options=dict(TINY, out=str(tmp_path / strategy), strategy=strategy), save=str(save))
            for strategy, save in saves.items()]
    args = [sys.executable, "-m", "tests.training_worker", "--jobs", json.dumps(jobs), "--logical-cpus", "2"]
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    return {strategy: (dict(np.load(save)), result.stdout) for strategy, save in saves.items()}


def test_mirrored_on_two_cpu_replicas_updates_like_one_device(mirrored_and_single):
    (mirrored, log), (single, _) = mirrored_and_single["mirrored"], mirrored_and_single["none"]
    assert "MirroredStrategy with 2 replica(s)" in log
    assert int(mirrored["steps_taken"]) == int(single["steps_taken"]) == 3
    a, b = indexed_weights(mirrored), indexed_weights(single)
    assert a.keys() == b.keys() and len(a) > 20
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-5, err_msg=str(key))
    # The equality is about trained weights: the 3 steps moved them well beyond the tolerance.
    initial = _initial_weights(TrainOptions(**TINY))
    moved = max(float(np.abs(a[k] - initial[k]).max()) for k in initial)
    assert moved > 3e-4  # Adam moves a weight by up to about lr = 2e-4 per step


def _initial_weights(options):
    """{(network, index): array} of the kernels a run of `options` starts from."""
    from keras_colorizer.run.assemble import build_networks

    generator, discriminator = build_networks(options)
    values = {}
    for prefix, network in (("g", generator), ("d", discriminator)):
        for i, w in enumerate(network.weights):
            if "kernel" in w.path:
                values[f"{prefix}_weight", i] = np.asarray(w)
    return values


def test_checkpoint_written_under_a_strategy_restores_without_one(mirrored_and_single):
    from keras_colorizer.run.checkpoint import restore_checkpoint
    from keras_colorizer.run.assemble import build_model

    mirrored, _ = mirrored_and_single["mirrored"]
    checkpoint = str(mirrored["checkpoint"])
    assert checkpoint and os.path.isdir(checkpoint)
    model = build_model(TrainOptions(**TINY), "rgb", steps_per_epoch=3)
    restore_checkpoint(model, checkpoint)
    assert int(model.steps_taken.numpy()) == 3
    for prefix, network in (("g", model.generator), ("d", model.discriminator)):
        for i, w in enumerate(network.weights):
            np.testing.assert_array_equal(np.asarray(w), mirrored[f"{prefix}_weight/{i}/{w.path}"])
    assert int(model.g_optimizer.iterations.numpy()) == int(model.d_optimizer.iterations.numpy()) == 3


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_on_localhost_finish_in_step_with_identical_weights(tmp_path, mirrored_and_single):
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        options = dict(TINY, out=str(tmp_path / "runs"), strategy="multi_worker")
        workers.append(start_worker(tmp_path, f"worker{index}", options, extra_env={"TF_CONFIG": tf_config}))
    (chief, chief_log), (other, _) = [finish(*worker) for worker in workers]
    assert "MultiWorkerMirroredStrategy with 2 replica(s)" in chief_log
    assert int(chief["steps_taken"]) == int(other["steps_taken"]) == 3
    others = indexed_weights(other)
    for key, value in indexed_weights(chief).items():
        np.testing.assert_array_equal(value, others[key], err_msg=str(key))
    # Only the chief writes a run folder; the global batch of 4 trains as on one device.
    assert len(os.listdir(tmp_path / "runs")) == 1 and str(chief["checkpoint"])
    assert not str(other["checkpoint"]) or not os.path.exists(str(other["run_dir"]))
    single = indexed_weights(mirrored_and_single["none"][0])
    for key, value in indexed_weights(chief).items():
        np.testing.assert_allclose(value, single[key], atol=1e-5, err_msg=str(key))


# --- bad placements: one line, exit 2, before a run folder exists


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--strategy", "ring"], {}, "--strategy must be one of none, mirrored, multi_worker, data_parallel"),
        (["--precision", "float8"], {}, "--precision must be one of float32, mixed_float16, mixed_bfloat16"),
        (["--strategy", "multi_worker"], {}, "--strategy multi_worker needs TF_CONFIG"),
        (["--strategy", "multi_worker"], {"TF_CONFIG": "{not json"}, "TF_CONFIG is not valid JSON"),
        (["--strategy", "multi_worker"], {"TF_CONFIG": '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}'},
         "TF_CONFIG task index must be 0..0"),
        (["--strategy", "data_parallel"], {}, "--strategy data_parallel needs KERAS_BACKEND=jax"),
    ],
)
def test_bad_placement_exits_2_before_any_work(tmp_path, args, env, message, monkeypatch, capsys):
    out = tmp_path / "runs"
    monkeypatch.delenv("TF_CONFIG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, _, err = call_main("keras_colorizer.cli.train", ["--out", str(out), "--generator", "unet_128", "--levels", "3", "--ngf", "8", "--ndf", "8",
                                                           "--image-size", "64", *args], capsys)
    assert code == 2, err[-2000:]
    lines = error_lines(err)
    assert len(lines) == 1 and message in lines[0], lines
    assert not out.exists()


def test_batch_that_does_not_split_over_the_replicas_exits_2(tmp_path):
    out = tmp_path / "runs"
    result = subprocess.run(
        [sys.executable, "-m", "tests.training_worker", "--logical-cpus", "2", "--cli",
         "--out", str(out), "--strategy", "mirrored", "--batch-size", "3", "--generator", "unet_128", "--levels", "3",
         "--image-size", "64"],
        cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = error_lines(result.stderr)
    assert "--batch-size 3 does not split over 2 replicas" in line
    assert not out.exists()


def test_bfloat16_on_a_device_without_it_is_refused(monkeypatch):
    monkeypatch.setattr(distribute, "_cpu_flags", lambda: {"avx2", "fma"})
    with pytest.raises(OptionError, match="mixed_bfloat16 needs a device with bfloat16 arithmetic"):
        distribute.check_placement("none", "mixed_bfloat16", backend="tensorflow")
    monkeypatch.setattr(distribute, "_cpu_flags", lambda: {"avx2", "avx512_bf16"})
    distribute.check_placement("none", "mixed_bfloat16", backend="tensorflow")


def test_float32_on_a_cpu_with_bfloat16_suggests_it(monkeypatch):
    monkeypatch.setattr(distribute, "trains_on", lambda backend=None: "CPU")
    monkeypatch.setattr(distribute, "_cpu_flags", lambda: {"avx2", "amx_bf16"})
    assert "--precision mixed_bfloat16" in distribute.precision_hint("float32", backend="tensorflow")
    assert distribute.precision_hint("mixed_bfloat16", backend="tensorflow") is None
    monkeypatch.setattr(distribute, "_cpu_flags", lambda: {"avx2", "fma"})
    assert distribute.precision_hint("float32", backend="tensorflow") is None
    monkeypatch.setattr(distribute, "_cpu_flags", lambda: {"avx2", "amx_bf16"})
    monkeypatch.setattr(distribute, "trains_on", lambda backend=None: "GPU")
    assert distribute.precision_hint("float32", backend="tensorflow") is None


def test_one_device_is_named_by_its_kind():
    placement = distribute.place("none", batch_size=4, backend="tensorflow")
    assert placement.description == f"one {distribute.trains_on('tensorflow')}"
    assert placement.description in ("one CPU", "one GPU")
