"""kill -9 at chosen moments of training and export: the old files or the new ones survive, never half of one.

Each process is stopped by `KERAS_COLORIZER_KILL_AT` (`keras_colorizer.crashpoints`),
which sends SIGKILL at a named point: during a checkpoint write, during
pruning, between the history row and its checkpoint, during the export swap.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

from keras_colorizer import swap
from tests.conftest import REPO, call_main, error_lines

TINY = ["--generator", "unet_128", "--levels", "3", "--ngf", "8", "--ndf", "8", "--n-layers", "2", "--image-size", "64", "--batch-size", "2",
        "--steps-per-epoch", "1", "--quiet"]


def _run(args, kill_at=None, pause_at=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERAS_COLORIZER_")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    if kill_at:
        env["KERAS_COLORIZER_KILL_AT"] = kill_at
    if pause_at:
        env["KERAS_COLORIZER_PAUSE_AT"] = pause_at
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _checkpoints(run):
    folder = run / "checkpoints"
    return sorted(n for n in os.listdir(folder) if n.startswith("step-"))


def _leftovers(run):
    return sorted(n for n in os.listdir(run / "checkpoints") if n.startswith(".tmp-"))


def _assert_whole(run):
    for name in _checkpoints(run):
        for item in ("generator.keras", "discriminator.keras", "optimizers.npz", "state.json"):
            assert (run / "checkpoints" / name / item).is_file(), (name, item)


def _history_epochs(run):
    with open(run / "history.csv", newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_training_killed_at_every_point_of_a_save_resumes_with_whole_checkpoints_and_history(tmp_path, capsys):
    run = tmp_path / "run"
    train = ["train.py", *TINY, "--epochs", "4", "--out", str(tmp_path), "--name", "run"]
    resume = ["train.py", "--resume", str(run)]

    # 1. Killed while the second checkpoint is written: the first stays, the half one is a temporary folder.
    killed = _run(train, kill_at="checkpoint-written:2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _checkpoints(run) == ["step-0000001"] and _leftovers(run)
    _assert_whole(run)
    assert _history_epochs(run) == [0, 1]  # the row of the epoch whose checkpoint died: replaced on resume

    # 2. Killed while pruning the oldest checkpoint (the third save keeps two).
    killed = _run(resume, kill_at="checkpoint-pruning:1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _checkpoints(run) == ["step-0000002", "step-0000003"]  # no half-deleted step-0000001
    _assert_whole(run)
    assert _history_epochs(run) == [0, 1, 2]

    # 3. Killed after an epoch's history row, before its checkpoint.
    killed = _run(resume, kill_at="history-written:1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _checkpoints(run)[-1] == "step-0000003" and _history_epochs(run) == [0, 1, 2, 3]

    # 4. Resumed to the end: every epoch once, whole checkpoints, nothing temporary left. In this process: the
    # killed ones above are real processes that resumed (a TensorFlow start-up, about 10 s, saved).
    code, stdout, err = call_main("keras_colorizer.cli.train", resume[1:], capsys)
    assert code == 0, err[-2000:]
    assert "Resuming from" in stdout and "at step 3 of 4" in stdout
    assert _checkpoints(run) == ["step-0000003", "step-0000004"]
    _assert_whole(run)
    assert _history_epochs(run) == [0, 1, 2, 3]
    assert _leftovers(run) == []


def test_a_second_ctrl_c_during_the_save_aborts_at_once_and_keeps_the_last_checkpoint(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERAS_COLORIZER_")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", KERAS_COLORIZER_PAUSE_AT="checkpoint-written")
    args = [sys.executable, "train.py", *TINY, "--epochs", "50", "--out", str(tmp_path), "--name", "stop"]
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoints = tmp_path / "stop" / "checkpoints"
    deadline = time.time() + 300
    # The first save pauses at its last step: its temporary folder is complete.
    while time.time() < deadline and not (checkpoints.is_dir() and [n for n in os.listdir(checkpoints) if n.startswith(".tmp-")]):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)  # first: finish, save, stop (the save is the one pausing)
    time.sleep(1.0)
    started = time.time()
    process.send_signal(signal.SIGINT)  # second: abort now
    stdout, stderr = process.communicate(timeout=120)
    assert time.time() - started < 30  # not the minute the save would have paused
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "Aborted" in stderr
    assert [n for n in os.listdir(checkpoints) if n.startswith("step-")] == []  # no checkpoint named before it was whole


def _export(run, out, kill_at=None, capsys=None):
    """Export a SavedModel over `out`: a real process to be killed at `kill_at`, or in this process given `capsys`."""
    argv = [str(run), "--out", str(out), "--formats", "saved_model", "--overwrite"]
    if capsys is not None:
        code, _, err = call_main("keras_colorizer.cli.export", argv, capsys)
        assert code == 0, err[-2000:]
        return
    return _run(["-m", "keras_colorizer.export", *argv], kill_at=kill_at)


def _whole_export(out):
    report = json.loads((out / "report.json").read_text())
    assert report and (out / "serving" / "colorizer" / "1" / "saved_model.pb").is_file()
    return os.path.getmtime(out / "report.json")


def test_export_overwrite_killed_at_every_step_of_the_swap_leaves_the_old_or_the_new_export(tmp_path, trained_run, capsys):
    out = tmp_path / "exported"
    _export(trained_run.run_dir, out, capsys=capsys)  # the first and the last export in this process: nothing to kill
    stamps = [_whole_export(out)]
    for point in ("export-staged", "export-aside", "export-swapped"):
        killed = _export(trained_run.run_dir, out, kill_at=point)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        # What the next export finds and repairs before it starts (the same code, called here).
        repaired = str(swap.recover(str(out)))
        stamps.append(_whole_export(out))
        assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n or ".old-" in n], os.listdir(tmp_path)
        if point == "export-staged":
            assert stamps[-1] == stamps[-2]  # killed before the swap: the old export, untouched
            assert "removed the unfinished export" in repaired
        else:
            assert stamps[-1] != stamps[-2]  # the swap had begun: finished, the new export in place
    _export(trained_run.run_dir, out, capsys=capsys)
    _whole_export(out)


def test_colorize_after_an_export_killed_aside_finds_the_export(tmp_path, trained_run, capsys):
    """Killed with the old export moved aside and the new one not yet in place: `colorize` puts it right itself."""
    from PIL import Image

    from tests.conftest import real_crops

    out = tmp_path / "exported"
    _export(trained_run.run_dir, out, capsys=capsys)
    killed = _export(trained_run.run_dir, out, kill_at="export-aside")
    assert killed.returncode == -signal.SIGKILL and not out.exists()
    Image.fromarray(real_crops(1, 48)[0]).save(tmp_path / "a.png")
    model = out / "serving" / "colorizer" / "1"
    code, stdout, err = call_main("keras_colorizer.cli.colorize", [str(tmp_path / "a.png"), "--model", str(model),
                                                                  "--out", str(tmp_path / "c")], capsys)
    assert code == 0, err
    assert "finished the swap a killed export had begun" in stdout and (tmp_path / "c" / "a.png").is_file()
    _whole_export(out)
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n or ".old-" in n]


def test_a_second_export_to_a_locked_out_is_refused_and_leaves_the_first_alone(tmp_path, trained_run, capsys):
    out = tmp_path / "exported"
    first = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; h = open(sys.argv[1], 'a'); fcntl.flock(h, fcntl.LOCK_EX); "
         "print('locked', flush=True); time.sleep(60)", str(out) + ".lock"], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "locked"  # another export is running (it holds the lock)
        staging = tmp_path / "exported.tmp-99999"
        staging.mkdir()  # its half-built folder
        code, _, err = call_main("keras_colorizer.cli.export", [str(trained_run.run_dir), "--out", str(out)], capsys)
        assert code == 2 and error_lines(err) == [
            f"error: {out}: another export to this folder is running (it holds {out}.lock); "
            "wait for it to finish or choose another --out"]
        assert staging.is_dir() and not out.exists()  # nothing of the running export's was touched
    finally:
        first.kill()
        first.wait()
    # The lock dies with its process: the next export runs and clears the dead one's leftovers.
    _export(trained_run.run_dir, out, capsys=capsys)
    _whole_export(out)
    assert not staging.exists()
