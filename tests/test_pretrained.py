"""Generators with an ImageNet encoder: the data-only weights reader, the Lite0 conversion, training, export."""

import json
import os
import pickle
import shutil

import keras
import numpy as np
import pytest
from PIL import Image

from keras_colorizer.errors import UserError
from keras_colorizer.models import EncoderUNetGenerator, build_generator
from keras_colorizer.models.backbones import efficientnet_lite, torch_reader
from tests.conftest import REPO, error_lines, real_crops, run_cli, tiny_options

SHARED_DEV = REPO.parent / "shared" / "data" / "dev"
PARROTS = {87, 88, 89, 90}  # African grey, macaw, sulphur-crested cockatoo, lorikeet


# --- the data-only reader of legacy PyTorch files


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _legacy_file(path, payload):
    with open(path, "wb") as f:
        for value in (torch_reader.LEGACY_MAGIC, torch_reader.LEGACY_PROTOCOL, {"little_endian": True}):
            pickle.dump(value, f, protocol=2)
        pickle.dump(payload, f, protocol=2)
        pickle.dump([], f, protocol=2)


def test_reader_refuses_a_file_that_names_another_global_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    _legacy_file(tmp_path / "evil.pth", {"weight": _RunsCode(marker)})
    with pytest.raises(torch_reader.TorchFileError, match=r"evil.pth: refers to (posix|os|nt)\.system") as caught:
        torch_reader.read_state_dict(tmp_path / "evil.pth")
    assert "\n" not in str(caught.value)
    assert not marker.exists()


def test_reader_refuses_a_file_that_is_not_a_legacy_torch_file(tmp_path):
    (tmp_path / "zip.pth").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(torch_reader.TorchFileError, match="zip.pth: not a readable legacy PyTorch file"):
        torch_reader.read_state_dict(tmp_path / "zip.pth")


def test_reader_reads_the_installed_lite0_weights_with_their_strides():
    state = torch_reader.read_state_dict(efficientnet_lite.torch_weights_path())
    assert len(state) == 296
    stem = state["_conv_stem.weight"]
    assert stem.shape == (32, 3, 3, 3) and stem.dtype == np.float32 and stem.flags["C_CONTIGUOUS"]
    assert state["_fc.weight"].shape == (1000, 1280) and state["_bn0.num_batches_tracked"].dtype == np.int64
    variances = state["_bn0.running_var"]
    assert variances.min() >= 0 and variances.mean() > 1.0  # running variances (a few dead channels at 0), not garbage


def test_a_weights_file_with_the_wrong_sha256_is_refused_in_one_line(tmp_path, monkeypatch):
    tampered = tmp_path / "lite0.pth"
    shutil.copy(efficientnet_lite.torch_weights_path(), tampered)
    with open(tampered, "r+b") as f:
        f.seek(-4, os.SEEK_END)
        last = f.read(4)
        f.seek(-4, os.SEEK_END)
        f.write(bytes(b ^ 0xFF for b in last))  # one weight changed
    monkeypatch.setenv("KERAS_COLORIZER_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError, match=r"lite0.pth: sha256 [0-9a-f]{64}, expected 579344248a93") as caught:
        efficientnet_lite.imagenet_weights(source=str(tampered))
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "cache").exists() or not os.listdir(tmp_path / "cache")


# --- the conversion, proven on real photos


def _centre_crop(path, size=224):
    image = Image.open(path).convert("RGB")
    scale = 256 / min(image.size)
    image = image.resize((round(image.size[0] * scale), round(image.size[1] * scale)), Image.BILINEAR)
    left, top = (image.size[0] - size) // 2, (image.size[1] - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)))


@pytest.fixture(scope="module")
def classifier():
    model = efficientnet_lite.efficientnet_lite0_classifier()
    model.load_weights(efficientnet_lite.imagenet_weights())
    return model


@pytest.mark.skipif(not SHARED_DEV.is_dir(), reason="needs ../shared/data/dev (the shared photos; CI has them)")
def test_converted_lite0_classifies_real_photos_as_an_imagenet_model(classifier):
    parrots = _centre_crop(SHARED_DEV / "kodak24" / "kodim23.png")
    top5 = np.argsort(-np.asarray(classifier(efficientnet_lite.preprocess(parrots)[None])))[0, :5]
    assert PARROTS & set(top5.tolist()), top5
    # imagenet500 holds every second ImageNet class in WordNet order, from class 1: file k is class 2k + 1.
    names = sorted(os.listdir(SHARED_DEV / "imagenet500"))
    picked = list(range(0, len(names), 25))
    batch = np.stack([_centre_crop(SHARED_DEV / "imagenet500" / names[k]) for k in picked])
    logits = np.asarray(classifier(efficientnet_lite.preprocess(batch)))
    top5 = np.argsort(-logits, axis=1)[:, :5]
    hits = [2 * k + 1 in row for k, row in zip(picked, top5)]
    assert np.mean(hits) >= 0.8, (np.mean(hits), top5[:, 0])


# --- the generator family


def test_lite0_generator_starts_from_the_imagenet_encoder_with_frozen_batch_norm(classifier):
    generator = build_generator("efficientnet_lite0_unet", image_size=64, seed=0)
    assert isinstance(generator, EncoderUNetGenerator) and generator.size_multiple == 32
    np.testing.assert_array_equal(generator.get_layer("block7_dwconv").kernel.numpy(), classifier.get_layer("block7_dwconv").kernel.numpy())
    np.testing.assert_array_equal(
        generator.get_layer("block7_dw_bn").moving_variance.numpy(), classifier.get_layer("block7_dw_bn").moving_variance.numpy()
    )
    norms = [generator.get_layer(n) for n in generator.encoder_layer_names if "bn" in n]
    assert norms and not any(layer.trainable for layer in norms)  # inference mode, ImageNet statistics
    assert not any(v.path.startswith("block") for v in generator.trainable_variables if "moving" in v.path)
    with pytest.raises(ValueError, match="Received: backbone='vgg16'"):
        EncoderUNetGenerator("vgg16", weights=None)


def test_a_short_training_on_real_crops_lowers_l1_by_a_third():
    import tensorflow as tf
    from keras import ops

    from keras_colorizer import color
    from keras_colorizer.assemble import paper_adam
    from keras_colorizer.models import PatchGANDiscriminator
    from keras_colorizer.pix2pix import Pix2Pix

    crops = real_crops(4, 64)
    generator = build_generator("efficientnet_lite0_unet", image_size=64, seed=0, decoder_filters=(32, 32, 16, 16))
    model = Pix2Pix(generator, PatchGANDiscriminator(n_layers=2, ndf=8, seed=1))
    slow = [v.path for v in generator.encoder_variables]
    adam = dict(lr=1e-3, beta1=0.5, total_steps=100, decay_steps=0)
    model.compile(g_optimizer=paper_adam("g", **adam, slow_variables=slow, slow_lr_scale=0.1), d_optimizer=paper_adam("d", **adam))

    def l1():
        l_norm, ab_norm = color.rgb_to_network(crops)
        return float(ops.mean(ops.abs(generator(l_norm, training=False) - ab_norm)))

    before = l1()
    model.fit(tf.data.Dataset.from_tensor_slices(crops).repeat().batch(4), epochs=1, steps_per_epoch=80, verbose=0)
    assert l1() <= 0.7 * before, (before, l1())


def _indexed_weights(arrays):
    """{(network, index): array} of a training worker's .npz: layer names are numbered per process, so not compared."""
    return {(key.split("/")[0], int(key.split("/")[1])): value for key, value in arrays.items() if "_weight/" in key}


def test_lite0_freezes_then_learns_resumes_exactly_and_trains_alike_on_two_replicas(tmp_path):
    """One run, three ways: straight in this process; stopped after its frozen epoch and resumed; on two
    CPU replicas (mirrored) in a process of its own. The freeze, the encoder's tenth of the learning rate,
    resume equivalence and a strategy for the pretrained family. (JAX: tests/test_backends.py makes the
    TensorFlow and the JAX step agree on a Lite0 generator.)"""
    from keras_colorizer.checkpoint import find_checkpoint, load_generator
    from keras_colorizer.training import train
    from tests.test_distribute import finish, start_worker

    options = dict(generator="efficientnet_lite0_unet", jitter=False, dropout=0.0, batch_size=4, epochs=2,
                   steps_per_epoch=2, val_split=0.3, freeze_encoder_epochs=1, encoder_lr_scale=0.1)
    # Started first: most of a worker's time is single-threaded start-up and tracing.
    mirrored = start_worker(tmp_path, "mirrored", tiny_options(tmp_path, name="mirrored", strategy="mirrored", **options).to_dict(),
                            logical_cpus=2)

    before = build_generator("efficientnet_lite0_unet", **tiny_options(tmp_path, **options).generator_settings())
    straight = train(tiny_options(tmp_path, name="straight", **options), verbose=0)
    first = train(tiny_options(tmp_path, name="parts", **options), max_steps=2, verbose=0)
    kernel = "block3_dwconv"
    frozen = first.model.generator
    np.testing.assert_array_equal(frozen.get_layer(kernel).kernel.numpy(), before.get_layer(kernel).kernel.numpy())
    assert not np.array_equal(frozen.get_layer("dec4_conv").kernel.numpy(), before.get_layer("dec4_conv").kernel.numpy())

    resumed = train(resume=first.run_dir, verbose=0)
    assert resumed.steps == straight.steps == 4
    moved = np.abs(resumed.model.generator.get_layer(kernel).kernel.numpy() - before.get_layer(kernel).kernel.numpy()).max()
    assert 0 < moved <= 2 * 2e-4 * 0.1 * 1.01  # two steps of Adam at a tenth of the learning rate
    a = load_generator(find_checkpoint(straight.run_dir))
    b = load_generator(find_checkpoint(resumed.run_dir))
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, atol=1e-5)

    expected = {(f"{prefix}_weight", i): keras.ops.convert_to_numpy(w)
                for prefix, network in (("g", straight.model.generator), ("d", straight.model.discriminator))
                for i, w in enumerate(network.weights)}
    two_replicas = _indexed_weights(finish(*mirrored)[0])
    assert two_replicas.keys() == expected.keys() and len(expected) > 100
    for key, value in expected.items():
        # Replicas sum gradients and statistics in another order. rtol: the decoder's moving variances reach
        # 5-27 with lambda 300 (3.1e-5 relative seen after the 4 steps; 1e-5 held at lambda 100); atol: Adam
        # scales each update to about the learning rate (2e-4), so a gradient near 0 summed in another order
        # moves a weight by a part of that (1.2e-5 seen after the 4 steps).
        np.testing.assert_allclose(two_replicas[key], value, rtol=1e-4, atol=3e-5, err_msg=str(key))


@pytest.fixture(scope="module")
def lite0_run(tmp_path_factory):
    from keras_colorizer.training import train

    tmp = tmp_path_factory.mktemp("lite0")
    # A slimmer decoder than the default (the phone option, --decoder-filters): the other Lite0 tests train the default.
    options = tiny_options(tmp, name="lite0", generator="efficientnet_lite0_unet", epochs=2, steps_per_epoch=4,
                           decoder_filters="32,24,16,8")
    return train(options, verbose=0)


def test_lite0_run_colorizes_and_exports_int8_in_agreement(lite0_run, tmp_path):
    from keras_colorizer.inference import Colorizer

    out = tmp_path / "export"
    result = run_cli("-m", "keras_colorizer.export", lite0_run.run_dir, "--out", str(out), "--size", "64",
                     "--variants", "float32,int8", "--calibration-crops", "16", "--eval-crops", "4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert Colorizer.load(lite0_run.run_dir).generator.get_layer("dec2_conv").filters == 8
    report = {row["artifact"]: row for row in json.loads((out / "report.json").read_text())}
    int8 = report["tflite/colorizer_int8.tflite"]
    assert int8["agreement_psnr_db"] >= 35.0, int8
    assert abs(int8["colorization_psnr_db"] - report["keras float32 (reference)"]["colorization_psnr_db"]) < 1.0
    photo = real_crops(1, 96)[0]
    checkpoint = Colorizer.load(lite0_run.run_dir).colorize(photo)
    tflite = Colorizer.load(out / "tflite" / "colorizer_float32.tflite").colorize(photo)
    assert np.abs(checkpoint.astype(int) - tflite.astype(int)).max() <= 2


APPLICATIONS = ["mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_v2_b0", "resnet50_v2", "convnext_tiny"]


def _weights_file(backbone, tmp_path):
    """The encoder's weights with recognisable first values, written here: nothing downloads in the tests."""
    from keras_colorizer.models.backbones import get_backbone

    encoder = get_backbone(backbone).build(keras.Input((None, None, 3)), None)
    for variable in encoder.trainable_variables[:3]:
        variable.assign(np.full(variable.shape, 0.01, "float32"))
    path = tmp_path / f"{backbone}.weights.h5"
    encoder.save_weights(path)
    return path, encoder.trainable_variables[0].path


@pytest.mark.parametrize("backbone", APPLICATIONS)
def test_keras_applications_backbone_starts_from_its_weights_file_and_colours_any_multiple_of_32(backbone, tmp_path):
    from keras_colorizer.models import EncoderUNetGenerator

    weights, first = _weights_file(backbone, tmp_path)
    generator = EncoderUNetGenerator(backbone=backbone, weights=str(weights), image_size=32)
    loaded = next(v for v in generator.weights if v.path == first)
    np.testing.assert_array_equal(loaded.numpy(), np.float32(0.01))
    for size in (32, 64):
        ab = keras.ops.convert_to_numpy(generator(np.zeros((1, size, size, 1), "float32"), training=False))
        assert ab.shape == (1, size, size, 2) and np.isfinite(ab).all() and np.abs(ab).max() <= 1.0


def test_a_keras_applications_generator_trains_a_step_and_exports(tmp_path):
    """The whole path, once (MobileNetV3-Small, the cheapest): train from the weights file, export, agree."""
    from keras_colorizer.export.cli import main as export
    from keras_colorizer.training import train

    backbone = "mobilenet_v3_small"
    weights, first = _weights_file(backbone, tmp_path)
    options = tiny_options(tmp_path, name=backbone, generator=f"{backbone}_unet", encoder_weights=str(weights),
                           steps_per_epoch=1, image_size=32)  # the smallest side a stride-32 encoder takes
    result = train(options, verbose=0)
    assert result.steps == 1
    trained = next(v for v in result.model.generator.weights if v.path == first)
    assert np.allclose(trained.numpy(), 0.01, atol=1e-3)  # started from the file, moved at most a little
    out = tmp_path / "export"
    code = export([result.run_dir, "--out", str(out), "--size", "32", "--formats", "tflite", "--variants", "float32",
                   "--calibration-crops", "2", "--eval-crops", "2"])
    assert code == 0
    row = next(r for r in json.loads((out / "report.json").read_text()) if r["artifact"].endswith("float32.tflite"))
    assert row["agreement_psnr_db"] > 40.0, row


def test_a_failed_imagenet_download_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    from keras_colorizer.models.backbones import pretrained_model

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.utils.file_utils.get_file", offline)
    with pytest.raises(UserError) as caught:
        pretrained_model("mobilenet_v3_small", "imagenet")
    message = str(caught.value)
    assert "\n" not in message and "mobilenet_v3_small: could not get its ImageNet weights" in message
    assert "run once with network access" in message and "efficientnet_lite0_unet" in message


def test_train_py_with_a_missing_encoder_weights_file_exits_2(tmp_path):
    result = run_cli("train.py", "--generator", "mobilenet_v3_small_unet", "--encoder-weights", str(tmp_path / "none.h5"),
                     "--image-size", "64", "--out", str(tmp_path / "runs"), "--epochs", "1", "--steps-per-epoch", "1")
    assert result.returncode == 2, result.stderr[-2000:]
    errors = error_lines(result.stderr)
    assert len(errors) == 1 and "none.h5: no such weights file for the mobilenet_v3_small encoder" in errors[0]
