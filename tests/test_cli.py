"""The command lines as a user runs them: train.py and colorize."""

import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, call_main, error_lines, real_crops, run_cli
from tests.conftest import write_kaggle_layout

TINY = ["--generator", "unet_128", "--levels", "3", "--ngf", "8", "--ndf", "8", "--n-layers", "2", "--image-size", "64", "--batch-size", "2"]


def test_help_lists_every_option(capsys):
    code, out, _ = call_main("keras_colorizer.cli.train", ["--help"], capsys)
    assert code == 0
    for flag in ("--data", "--out", "--epochs", "--steps-per-epoch", "--batch-size", "--image-size", "--generator",
                 "--ngf", "--ndf", "--norm", "--gan-mode", "--lambda-l1", "--rebalance", "--lr", "--beta1", "--val-split",
                 "--seed", "--resume"):
        assert flag in out, flag
    assert "A full run as in the paper: python train.py" in " ".join(out.split())


def test_the_old_preset_option_still_works_with_a_deprecation_line(tmp_path, capsys):
    # TINY[2:]: TINY without its "--generator unet_128", which --preset replaces here.
    code, _, err = call_main("keras_colorizer.cli.train", [*TINY[2:], "--preset", "unet_256", "--epochs", "1", "--steps-per-epoch", "1",
                                                           "--out", str(tmp_path), "--name", "old", "--quiet"], capsys)
    assert code == 0, err[-2000:]
    assert "warning: --preset is deprecated and will be removed; use --generator" in err
    import json

    assert json.loads((tmp_path / "old" / "options.json").read_text())["generator"] == "unet_256"
    code, _, err = call_main("keras_colorizer.cli.train", ["--generator", "unet_512", "--out", str(tmp_path)], capsys)
    assert code == 2 and "--generator must be one of " in error_lines(err)[0]
    assert "Received: 'unet_512'" in error_lines(err)[0]


def test_train_py_smoke_run_writes_a_complete_run(tmp_path):
    result = run_cli("train.py", *TINY, "--epochs", "2", "--steps-per-epoch", "2", "--out", str(tmp_path), "--name", "smoke")
    assert result.returncode == 0, result.stderr[-2000:]
    run = tmp_path / "smoke"
    for item in ("options.json", "history.csv", "samples/epoch-0001.png", "samples/epoch-0002.png", "checkpoints/step-0000004/state.json"):
        assert (run / item).exists(), item
    assert any(name.startswith("events") for _, _, files in os.walk(run / "logs") for name in files)
    with Image.open(run / "samples" / "epoch-0002.png") as grid:
        assert grid.size[0] > 300
    last = result.stdout.strip().splitlines()[-1]
    assert str(run) in last and "checkpoint" in last and "tensorboard" in last.lower()
    assert "For a full one: python train.py --data" in result.stdout
    history = (run / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch") and "g_l1" in history[0] and "val_psnr" in history[0]
    assert len(history) == 3


def test_train_on_a_kaggle_layout_through_the_command_line(tmp_path, capsys):
    write_kaggle_layout(tmp_path / "kaggle", counts=(3, 2, 1), nested=True)
    code, out, err = call_main("keras_colorizer.cli.train", [*TINY, "--data", str(tmp_path / "kaggle"), "--epochs", "1",
                                                             "--steps-per-epoch", "2", "--out", str(tmp_path / "runs"), "--name", "k",
                                                             "--quiet"], capsys)
    assert code == 0, err[-2000:]
    assert "Kaggle arrays" in out
    assert (tmp_path / "runs" / "k" / "checkpoints" / "step-0000002").is_dir()


def _kaggle_with(tmp_path, breakage):
    root = tmp_path / "kaggle"
    write_kaggle_layout(root, counts=(2, 1, 1))
    breakage(root)
    return root


def _count_mismatch(root):
    np.save(root / "ab" / "ab3.npy", np.zeros((2, 224, 224, 2), np.uint8))


def _wrong_shape(root):
    np.save(root / "ab" / "ab1.npy", np.zeros((2, 224, 224, 3), np.uint8))


def _pickled(root):
    with open(root / "ab" / "ab2.npy", "wb") as f:
        pickle.dump({"not": "an array"}, f)


@pytest.mark.parametrize(
    "make_data,expected",
    [
        (lambda tmp: tmp / "does-not-exist", "no such file or folder"),
        (lambda tmp: tmp, "no photos found"),
        (lambda tmp: _kaggle_with(tmp, _count_mismatch), "holds 4 L images but the ab files hold 5"),
        (lambda tmp: _kaggle_with(tmp, _wrong_shape), "ab1.npy: holds uint8 (2, 224, 224, 3), expected uint8 (n, 224, 224, 2)"),
        (lambda tmp: _kaggle_with(tmp, _pickled), "ab2.npy: holds pickled Python objects"),
    ],
    ids=["missing-path", "empty-folder", "npy-count-mismatch", "npy-wrong-shape", "pickled-npy"],
)
def test_bad_data_gives_one_line_and_exit_code_2(tmp_path, make_data, expected, capsys):
    data = make_data(tmp_path)
    code, _, err = call_main("keras_colorizer.cli.train", [*TINY, "--data", str(data), "--out", str(tmp_path / "runs")], capsys)
    assert code == 2, err[-2000:]
    errors = error_lines(err)
    assert len(errors) == 1 and expected in errors[0], err[-2000:]
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not os.listdir(tmp_path / "runs")


def test_bad_option_value_gives_one_line_and_exit_code_2(tmp_path):
    result = run_cli("train.py", "--image-size", "100", "--out", str(tmp_path))
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        "error: Image size 100 does not suit the efficientnet_lite0_unet generator: it must be a positive multiple of 32. "
        "Received: image_size=100"
    ]


def test_ctrl_c_saves_a_checkpoint_and_the_run_resumes(tmp_path, capsys):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    args = [sys.executable, "train.py", *TINY, "--epochs", "50", "--steps-per-epoch", "2", "--out", str(tmp_path), "--name", "stop", "--quiet"]
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    checkpoints = tmp_path / "stop" / "checkpoints"
    while time.time() < deadline and not (checkpoints.is_dir() and any(n.startswith("step-") for n in os.listdir(checkpoints))):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "--resume" in stdout
    steps = sorted(int(n.split("-")[1]) for n in os.listdir(checkpoints) if n.startswith("step-"))
    assert steps and steps[-1] < 100
    # Resumed in this process (tests/test_crash.py resumes real processes).
    code, stdout, err = call_main("keras_colorizer.cli.train", ["--resume", str(tmp_path / "stop"), "--epochs", str(steps[-1] // 2 + 1)],
                                  capsys)
    assert code == 0, err[-2000:]
    assert "Resuming from" in stdout


def test_resume_refuses_other_options(tmp_path, trained_run, capsys):
    code, _, err = call_main("keras_colorizer.cli.train", ["--resume", trained_run.run_dir, "--lr", "0.1"], capsys)
    assert code == 2
    line = error_lines(err)[0]
    assert "saved options" in line and "Received: --lr" in line


def test_colorize_command_writes_pngs_and_reports_bad_files(tmp_path, trained_run, capsys):
    photos = tmp_path / "photos"
    os.makedirs(photos / "sub")
    crops = real_crops(2, 80)
    Image.fromarray(crops[0]).save(photos / "a.jpg")
    Image.fromarray(crops[1]).save(photos / "sub" / "b.png")
    (photos / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    # In this process: tests/test_video.py runs the command as a real process, killed and interrupted.
    code, stdout, err = call_main("keras_colorizer.cli.colorize", [str(photos), "--model", trained_run.run_dir, "--out", str(out)],
                                  capsys)
    assert code == 1, err[-2000:]
    assert (out / "a.png").is_file() and (out / "sub" / "b.png").is_file()
    assert "failed: " in err and "broken.jpg" in err
    assert "Colorized 2 of 3" in stdout
    with Image.open(out / "a.png") as image:
        assert image.size == (80, 80) and image.mode == "RGB"


def test_colorize_command_with_a_missing_model_exits_2(tmp_path, capsys):
    Image.fromarray(real_crops(1, 32)[0]).save(tmp_path / "a.png")
    argv = [str(tmp_path / "a.png"), "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
    code, _, err = call_main("keras_colorizer.cli.colorize", argv, capsys)
    assert code == 2
    assert error_lines(err) == [f"error: {tmp_path / 'nope'}: no such run or checkpoint"]


def test_run_options_parse_to_their_types():
    from keras_colorizer.cli.train import build_parser, options_from_args

    args = build_parser().parse_args(
        ["--cache", "--no-jit-compile", "--steps-per-execution", "4", "--strategy", "mirrored", "--precision", "mixed_float16"]
    )
    given, options = options_from_args(args)
    assert options.cache is True and options.jit_compile is False and options.steps_per_execution == 4
    assert options.strategy == "mirrored" and options.precision == "mixed_float16"
    _, defaults = options_from_args(build_parser().parse_args([]))
    assert defaults.cache is None and defaults.jit_compile is None  # decided by the source and the backend


def test_one_command_runs_every_step_of_the_flow(trained_run, tmp_path, capsys):
    from PIL import Image

    code, out, _ = call_main("keras_colorizer.cli.main", ["--help"], capsys)
    assert code == 0 and all(f"  {name}" in out for name in ("train", "colorize", "evaluate", "export"))
    code, _, err = call_main("keras_colorizer.cli.main", ["paint"], capsys)
    assert code == 2 and error_lines(err) == [
        "error: 'paint' is not a command; expected one of train, colorize, evaluate, export, demo (see keras-colorizer --help)"]
    Image.fromarray(real_crops(1, 64)[0]).save(tmp_path / "a.png")
    code, out, err = call_main("keras_colorizer.cli.main", ["colorize", str(tmp_path / "a.png"), "--model",
                                                           trained_run.run_dir, "--out", str(tmp_path / "c")], capsys)
    assert code == 0 and (tmp_path / "c" / "a.png").is_file(), err
    code, out, _ = call_main("keras_colorizer.cli.main", ["train", "--help"], capsys)
    assert code == 0 and "--init-from" in out and "--data-weights" in out


def test_train_help_groups_every_option_once_with_the_research_ones_apart():
    import dataclasses

    from keras_colorizer.cli.train import OPTION_GROUPS, build_parser
    from keras_colorizer.run.options import TrainOptions

    grouped = [name for _, names in OPTION_GROUPS for name in names]
    assert sorted(grouped) == sorted(f.name for f in dataclasses.fields(TrainOptions))  # each once, none left out
    research = dict(OPTION_GROUPS)["research: measured, not better by default (docs/quality.md)"]
    assert set(research) == {"ab_head", "lambda_class", "rebalance", "lambda_temporal", "pretrain_epochs", "d_noise", "d_batch", "global_context"}
    parser = build_parser()
    titles = [group.title for group in parser._action_groups]
    assert titles[-1].startswith("research")
    longest = max(len(action.help) for action in parser._actions if action.help and action.help != "==SUPPRESS==")
    assert longest <= 130  # a line or two of --help each, no measurements quoted
