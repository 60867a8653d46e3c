"""Generators with an ImageNet encoder: the data-only weights reader, the Lite0 conversion, training, export."""

import json
import os
import pickle
import shutil

import numpy as np
import pytest
from PIL import Image

from keras_colorizer.errors import UserError
from keras_colorizer.models import EncoderUNetGenerator, build_generator
from keras_colorizer.models.backbones import efficientnet_lite, torch_reader
from tests.conftest import REPO, call_main, real_crops, tiny_options

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


def test_global_context_shows_the_decoder_the_imagenet_classifiers_pooled_features_of_the_photo(classifier):
    """`global_context=True`: what `context_pool` hands the decoder is exactly the classifier's pooled 1280
    features of the same (gray) photo, so what the photo shows reaches every position; off, none of it is built."""
    import keras

    from keras_colorizer import color

    generator = build_generator("efficientnet_lite0_unet", image_size=64, seed=0, global_context=True,
                                decoder_filters=(16, 16, 8, 8))
    assert generator.global_context and "head_conv" in generator.encoder_layer_names
    l_norm = color.rgb_to_network(real_crops(2, 224))[0]  # the classifier fixture takes 224
    seen = keras.Model(generator.input, [generator.get_layer("to_rgb").output, generator.get_layer("context_pool").output])
    rgb, pooled = (np.asarray(t) for t in seen(l_norm))
    features = np.asarray(keras.Model(classifier.input, classifier.get_layer("avg_pool").output)(rgb))
    assert pooled.shape == (2, 1, 1, 1280) and features.std() > 0.1
    np.testing.assert_allclose(pooled[:, 0, 0], features, atol=1e-4)
    assert "context_conv" in {v.path.split("/")[0] for v in generator.trainable_variables}

    plain = build_generator("efficientnet_lite0_unet", image_size=64, seed=0, decoder_filters=(16, 16, 8, 8))
    assert not plain.global_context and not {"head_conv", "context_pool", "context_conv"} & {layer.name for layer in plain.layers}


def test_a_short_training_on_real_crops_lowers_l1_by_a_third():
    import tensorflow as tf
    from keras import ops

    from keras_colorizer import color
    from keras_colorizer.run.assemble import paper_adam
    from keras_colorizer.models import PatchGANDiscriminator
    from keras_colorizer.gan.pix2pix import Pix2Pix

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


@pytest.fixture(scope="module")
def lite0_run(tmp_path_factory):
    from keras_colorizer.run.training import train

    tmp = tmp_path_factory.mktemp("lite0")
    # A slimmer decoder than the default (the phone option, --decoder-filters) with the photo's pooled classifier
    # features (--global-context): the other Lite0 tests train the default.
    options = tiny_options(tmp, name="lite0", generator="efficientnet_lite0_unet", epochs=2, steps_per_epoch=4,
                           decoder_filters="32,24,16,8", global_context=True)
    return train(options, verbose=0)


def test_by_default_the_encoder_keeps_its_imagenet_weights_and_only_the_decoder_learns(lite0_run, tmp_path):
    """`--encoder-lr-scale 0` (the default) makes the encoder non-trainable: no gradient is computed for it,
    and the saved generator loads with it non-trainable. Resumed from its first epoch's checkpoint, the run
    ends where it ended straight through."""
    from keras_colorizer.run.checkpoint import find_checkpoint, load_generator
    from keras_colorizer.run.training import train

    trained = lite0_run.model.generator
    imagenet = build_generator("efficientnet_lite0_unet", decoder_filters=(32, 24, 16, 8), global_context=True, seed=0)  # untrained
    encoder = set(trained.encoder_layer_names)
    assert encoder and not any(trained.get_layer(name).trainable for name in encoder)
    assert {v.path.split("/")[0] for v in trained.trainable_variables}.isdisjoint(encoder)
    moved = []
    for layer in trained.layers:
        for before, after in zip(imagenet.get_layer(layer.name).get_weights(), layer.get_weights()):
            if layer.name in encoder:
                np.testing.assert_array_equal(after, before, err_msg=layer.name)
            elif not np.array_equal(after, before):
                moved.append(layer.name)
    assert any(name.startswith("dec") for name in moved) and "context_conv" in moved, moved  # the decoder did learn
    assert "head_conv" in encoder  # the classifier's features stay ImageNet's

    copy = shutil.copytree(lite0_run.run_dir, tmp_path / "run")
    first_epoch = sorted((copy / "checkpoints").iterdir())[0]
    resumed = train(resume=str(first_epoch), verbose=0)
    assert resumed.steps == lite0_run.steps == 8
    straight = load_generator(find_checkpoint(lite0_run.run_dir))
    assert straight.encoder_trainable is False  # saved with the generator: loaded, it stays frozen
    assert len(straight.trainable_variables) == len(trained.trainable_variables)
    for x, y in zip(straight.get_weights(), load_generator(find_checkpoint(resumed.run_dir)).get_weights()):
        np.testing.assert_allclose(y, x, atol=1e-5)


def test_lite0_run_colorizes_and_exports_int8_in_agreement_with_the_network_at_another_size(lite0_run, tmp_path, capsys):
    """Trained at 64 and exported with --network-size 32: int8 agrees with float32, and the files' network runs at
    32, as Colorizer(generator, 32) does; a size the encoder cannot take is one line and writes nothing."""
    from ai_edge_litert.interpreter import Interpreter

    from keras_colorizer.export.generator import load_float32_generator
    from keras_colorizer.export.tflite import read_metadata
    from keras_colorizer.inference import Colorizer

    out = tmp_path / "export"
    args = [lite0_run.run_dir, "--out", str(out), "--size", "64", "--variants", "float32,int8",
            "--calibration-crops", "16", "--eval-crops", "4"]
    code, _, err = call_main("keras_colorizer.cli.export", [*args, "--network-size", "32"], capsys)
    assert code == 0, err[-3000:]
    assert Colorizer.load(lite0_run.run_dir).generator.get_layer("dec2_conv").filters == 8
    report = {row["artifact"]: row for row in json.loads((out / "report.json").read_text())}
    int8 = report["tflite/colorizer_int8.tflite"]
    assert int8["agreement_psnr_db"] >= 35.0, int8
    assert abs(int8["colorization_psnr_db"] - report["keras float32 (reference)"]["colorization_psnr_db"]) < 1.0

    path = str(out / "tflite" / "colorizer_float32.tflite")
    assert Interpreter(model_path=path).get_signature_runner("predict_ab").get_input_details()["l"]["shape"].tolist() == [1, 32, 32, 1]
    metadata = read_metadata(path)["generator"]
    assert metadata["network_size"] == 32 and metadata["trained_image_size"] == metadata["config"]["image_size"] == 64
    generator, _, _ = load_float32_generator(lite0_run.run_dir)
    photo = real_crops(1, 96)[0]
    at_32, at_64 = (Colorizer(generator, size).colorize(photo).astype(int) for size in (32, 64))
    for exported in (path, out / "serving" / "colorizer" / "1"):
        phone = Colorizer.load(exported).colorize(photo).astype(int)
        assert np.abs(phone - at_32).max() <= 2 and np.abs(phone - at_32).mean() < np.abs(phone - at_64).mean()

    shutil.rmtree(out)
    code, _, err = call_main("keras_colorizer.cli.export", [*args, "--network-size", "48"], capsys)
    assert code == 2 and err.strip().startswith("error: --network-size: ") and "multiple of 32" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
