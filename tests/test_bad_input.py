"""Bad input to every command: one line naming the file or value, exit code 2, nothing changed on disk.

The commands run in this process (their `main(argv)`), so the table stays
fast; `tests/test_cli.py` runs a few of the same as real subprocesses.
"""

import os

import numpy as np
import pytest
from PIL import Image

from tests.conftest import call_main, real_crops, write_kaggle_layout

TINY = ["--generator", "unet_128", "--levels", "3", "--ngf", "8", "--ndf", "8", "--n-layers", "2", "--image-size", "64", "--batch-size", "2",
        "--epochs", "1", "--steps-per-epoch", "1"]


@pytest.fixture(scope="module")
def world(tmp_path_factory, trained_run):
    """Files the cases point at: photos, a gray-only folder, Kaggle layouts, a file, an existing run."""
    root = tmp_path_factory.mktemp("world")
    os.makedirs(root / "photos")
    for i, crop in enumerate(real_crops(2, 64)):
        Image.fromarray(crop).save(root / "photos" / f"p{i}.png")
    os.makedirs(root / "gray")
    Image.fromarray(np.full((64, 64), 90, np.uint8)).save(root / "gray" / "g.png")
    os.makedirs(root / "empty")
    (root / "a_file.txt").write_text("not a folder")
    write_kaggle_layout(root / "kaggle", counts=(1, 1, 1))
    write_kaggle_layout(root / "kaggle0", counts=(1, 1, 1))
    (root / "kaggle0" / "l" / "gray_scale.npy").write_bytes(b"")
    write_kaggle_layout(root / "mismatch", counts=(2, 1, 1))
    np.save(root / "mismatch" / "l" / "gray_scale.npy", np.zeros((3, 224, 224), np.uint8))
    (root / "fake.tflite").write_bytes(b"not a flatbuffer")
    os.makedirs(root / "runs" / "taken")
    (root / "runs" / "taken" / "options.json").write_text("{}")
    os.makedirs(root / "exported")
    return {"root": root, "run": trained_run.run_dir}


def _cases():
    train, colorize, evaluate, export = (
        "keras_colorizer.cli.train", "keras_colorizer.cli.colorize", "keras_colorizer.cli.evaluate", "keras_colorizer.cli.export"
    )
    out = ["--out", "{root}/runs"]
    cases = [
        # train.py: option values
        (train, [*TINY, "--epochs", "0", *out], "--epochs must be at least 1. Received: 0"),
        (train, [*TINY, "--batch-size", "-1", *out], "--batch-size must be at least 1. Received: -1"),
        (train, [*TINY, "--image-size", "100", *out], "Image size 100 does not suit"),
        (train, [*TINY, "--generator", "unet_512", *out], "Received: 'unet_512'"),
        (train, [*TINY, "--norm", "layer", *out], "--norm must be one of batch, instance. Received: 'layer'"),
        (train, [*TINY, "--upsample", "cubic", *out], "Received: 'cubic'"),
        (train, [*TINY, "--gan-mode", "wgan", *out], "Received: 'wgan'"),
        (train, [*TINY, "--ab-head", "classes", *out], "--ab-head classes needs a pretrained encoder's generator; unet_128"),
        (train, [*TINY, "--decoder-filters", "64,48,32", *out], "--decoder-filters takes 4 comma-separated widths of at least 1 (strides 16, 8, 4, 2). Received: '64,48,32'"),
        (train, [*TINY, "--decoder-filters", "64,48,32,16", *out], "--decoder-filters sets a pretrained encoder's decoder; unet_128 has none"),
        (train, [*TINY, "--global-context", *out], "--global-context needs a pretrained encoder's generator; unet_128 has no classifier features"),
        (train, [*TINY, "--init-from", "{run}", "--ngf", "6", *out],
         "starts from a generator with its own architecture (--ngf 8); leave --ngf out, or train without --init-from"),
        (train, [*TINY, "--lambda-temporal", "-1", *out], "--lambda-temporal must be >= 0. Received: -1.0"),
        (train, ["--generator", "unet_128", "--levels", "6", "--image-size", "64", "--lambda-temporal", "10", *out],
         "--lambda-temporal crops 64 pixels off unet_128's 64-pixel images, so it needs --image-size of at least 128. Received: 64"),
        (train, [*TINY, "--dropout", "1.5", *out], "--dropout must be in [0, 1). Received: 1.5"),
        (train, [*TINY, "--lr", "0", *out], "lr=0.0"),
        (train, [*TINY, "--beta1", "1.0", *out], "beta1=1.0"),
        (train, [*TINY, "--val-split", "1.0", *out], "--val-split must be in [0, 1). Received: 1.0"),
        (train, [*TINY, "--pretrain-epochs", "3", *out], "--pretrain-epochs must be between 0 and --epochs (1). Received: 3"),
        (train, [*TINY, "--decay-epochs", "5", *out], "--decay-epochs must be between 0 and --epochs (1). Received: 5"),
        (train, [*TINY, "--precision", "float8", *out], "Received: 'float8'"),
        (train, [*TINY, "--strategy", "tpu", *out], "Received: 'tpu'"),
        (train, [*TINY, "--encoder-lr-scale", "-1", *out], "--encoder-lr-scale must be >= 0. Received: -1.0"),
        (train, [*TINY, "--rebalance", "2", *out], "--rebalance must be 0 (off) or in (0, 1]. Received: 2.0"),
        (train, [*TINY, "--d-noise", "-0.1", *out], "--d-noise must be in [0, 1] (0: off). Received: -0.1"),
        (train, [*TINY, "--d-batch", "mixed", *out], "--d-batch must be one of separate, joint. Received: 'mixed'"),
        (train, [*TINY, "--epochs", "abc", *out], "argument --epochs: invalid int value: 'abc'"),
        (train, [*TINY, "--generator", "efficientnet_lite0_unet", "--encoder-weights", "{root}/no.weights.h5", *out],
         "no.weights.h5: no such weights file"),
        # train.py: data and folders
        (train, [*TINY, "--data", "{root}/missing", *out], "missing: no such file or folder"),
        (train, [*TINY, "--data", "{root}/a_file.txt", *out], "a_file.txt: is a file"),
        (train, [*TINY, "--data", "{root}/empty", *out], "empty: no photos found"),
        (train, [*TINY, "--data", "{root}/gray", *out], "gray: no usable colour photo among 1 file(s)"),
        (train, [*TINY, "--data", "{root}/kaggle0", *out], "gray_scale.npy: not a readable .npy array (the file is empty)"),
        (train, [*TINY, "--data", "{root}/mismatch", *out], "holds 3 L images but the ab files hold 4"),
        (train, [*TINY, "--out", "{root}/runs", "--name", "taken"], "taken: a run with this name exists"),
        (train, [*TINY, "--out", "{root}/a_file.txt/runs"], "cannot create the run folder there"),
        (train, ["--resume", "{root}/missing"], "missing: no such run or checkpoint"),
        (train, ["--resume", "{root}/empty"], "empty: holds no checkpoint"),
        (train, ["--resume", "{run}", "--lr", "0.1"], "Received: --lr"),
        (train, ["--resume", "{run}", "--rebalance", "2"], "--rebalance must be 0 (off) or in (0, 1]. Received: 2.0"),
        (train, ["--resume", "{run}", "--d-noise", "3"], "--d-noise must be in [0, 1] (0: off). Received: 3.0"),
        # colorize
        (colorize, ["{root}/missing.png", "--model", "{run}", "--out", "{root}/c"], "missing.png: no such photo or folder"),
        (colorize, ["{root}/empty", "--model", "{run}", "--out", "{root}/c"], "empty: no photos or videos found in this folder"),
        (colorize, ["{root}/photos", "--model", "{root}/missing", "--out", "{root}/c"], "missing: no such run or checkpoint"),
        (colorize, ["{root}/photos", "--model", "{root}/fake.tflite", "--out", "{root}/c"], "fake.tflite: not a colorizer TFLite file"),
        (colorize, ["{root}/photos", "--model", "{run}", "--out", "{root}/a_file.txt/c"], "cannot write there"),
        (colorize, ["{root}/photos"], "the following arguments are required: --out"),
        # evaluate
        (evaluate, ["--model", "{run}", "--data", "{root}/photos", "--out", "{root}/e", "--grid-photos", "0"],
         "argument --grid-photos: expected a positive integer, got 0"),
        (evaluate, ["--model", "{run}", "--data", "{root}/kaggle", "--out", "{root}/e"], "kaggle: is the Kaggle .npy layout"),
        (evaluate, ["--model", "{run}", "--data", "{root}/empty", "--out", "{root}/e"], "empty: no photos found"),
        (evaluate, ["--model", "{root}/missing", "--data", "{root}/photos", "--out", "{root}/e"], "missing: no such run or checkpoint"),
        (evaluate, ["--model", "{run}", "--data", "{root}/photos", "--out", "{root}/a_file.txt/e"], "cannot write the results there"),
        (evaluate, ["--model", "{root}/fake.tflite", "--data", "{root}/photos", "--out", "{root}/e"], "not a colorizer TFLite file"),
        (evaluate, ["--model", "{run}", "--data", "{root}/photos", "--out", "{root}/e", "--saturation", "-1"],
         "saturation must be a finite number >= 0 (0: gray, 1: the model's colour). Received: -1.0"),
        # export
        (export, ["{run}", "--out", "{root}/x", "--calibration-crops", "0"], "argument --calibration-crops: expected a positive integer, got 0"),
        (export, ["{run}", "--out", "{root}/x", "--eval-crops", "0"], "argument --eval-crops: expected a positive integer, got 0"),
        (export, ["{run}", "--out", "{root}/x", "--model-name", "../../x"], "argument --model-name: --model-name must be one path segment"),
        (export, ["{run}", "--out", "{root}/x", "--model-name", ""], "argument --model-name: --model-name must be one path segment"),
        (export, ["{run}", "--out", "{root}/x", "--version", "-1"], "argument --version: expected a positive integer, got -1"),
        (export, ["{run}", "--out", "{root}/x", "--version", "v2"], "argument --version: expected a positive integer, got 'v2'"),
        (export, ["{run}", "--out", "{root}/x", "--variants", "int4"], "--variants 'int4': expected a comma-separated list"),
        (export, ["{run}", "--out", "{root}/x", "--formats", "onnx"], "--formats 'onnx': expected a comma-separated list"),
        (export, ["{run}", "--out", "{root}/x", "--size", "0"], "argument --size: expected a positive integer, got 0"),
        (export, ["{run}", "--out", "{root}/x", "--saturation", "nan"],
         "saturation must be a finite number >= 0 (0: gray, 1: the model's colour). Received: nan"),
        (export, ["{run}", "--out", "{root}/exported"], "exported: exists; choose another --out or pass --overwrite"),
        (export, ["{run}", "--out", "{root}/a_file.txt/x", "--formats", "saved_model"], "cannot write the export there"),
        (export, ["{root}/missing", "--out", "{root}/x"], "missing: no such run or checkpoint"),
    ]
    return [pytest.param(module, argv, message, id=f"{module.split('.')[-1]}-{i}") for i, (module, argv, message) in enumerate(cases)]


def _snapshot(root):
    return {
        os.path.join(folder, name): os.stat(os.path.join(folder, name)).st_mtime_ns
        for folder, dirs, files in os.walk(root) for name in files + dirs
    }


@pytest.mark.parametrize("module,argv,message", _cases())
def test_bad_input_is_one_line_and_exit_code_2(world, module, argv, message, capsys):
    root, run = str(world["root"]), str(world["run"])
    argv = [a.format(root=root, run=run) for a in argv]
    before = _snapshot(root)
    code, out, err = call_main(module, argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), err[-2000:]
    assert message in lines[0], lines[0]
    assert "Traceback" not in err + out
    assert _snapshot(root) == before  # nothing created, changed or removed


@pytest.fixture(scope="module")
def serving(trained_run, tmp_path_factory):
    import tensorflow as tf

    from keras_colorizer.export.generator import load_float32_generator
    from keras_colorizer.export.saved_model import write_saved_model

    generator, _, _ = load_float32_generator(trained_run.run_dir)
    folder = tmp_path_factory.mktemp("serving") / "1"
    write_saved_model(generator, generator.image_size, str(folder))
    return tf.saved_model.load(str(folder)).signatures


@pytest.mark.parametrize(
    "signature,inputs,message",
    [
        ("serving_default", lambda tf: {"images": tf.zeros([0, 8, 8, 3], tf.uint8)}, "the batch is empty"),
        ("serving_default", lambda tf: {"images": tf.zeros([1, 0, 8, 3], tf.uint8)}, "zero height or width"),
        ("serving_default", lambda tf: {"images": tf.zeros([1, 8, 8, 5], tf.uint8)}, "more than 4 channels"),
        ("serving_default", lambda tf: {"images": tf.zeros([1, 8, 8, 0], tf.uint8)}, "0 channels"),
        ("colorize_bytes", lambda tf: {"image_bytes": tf.constant([b"not an image"])}, "Unknown image file format"),
    ],
    ids=["empty-batch", "zero-width", "five-channels", "no-channels", "not-an-image"],
)
def test_malformed_requests_fail_with_invalid_argument_and_a_message(serving, signature, inputs, message):
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serving[signature](**inputs(tf))


def test_a_run_saved_with_a_removed_option_loads_when_it_was_off_and_is_refused_by_name_when_on():
    from keras_colorizer.run.options import OptionError, TrainOptions

    values = TrainOptions().to_dict()
    as_saved_before = {**values, "grain": 0.0, "flicker": 0.0, "freeze_encoder_epochs": 0}  # every run saved them
    assert TrainOptions.from_dict(as_saved_before) == TrainOptions.from_dict(values)
    with pytest.raises(OptionError, match=r"^grain=3\.0: --grain was removed \(it measured no better\)"):
        TrainOptions.from_dict({**values, "grain": 3.0})
    with pytest.raises(OptionError, match=r"^freeze_encoder_epochs=2: --freeze-encoder-epochs was removed"):
        TrainOptions.from_dict({**values, "freeze_encoder_epochs": 2})
