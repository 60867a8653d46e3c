import numpy as np
import pytest

from keras_colorizer.models import PatchGANDiscriminator, UNetGenerator, build_generator, check_image_size, default_image_size


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_unet_256_has_the_reference_parameter_count():
    assert trainable_count(build_generator("unet_256", ngf=64, norm="batch")) == 54_409_858


def test_patchgan_70_has_the_reference_parameter_count():
    assert trainable_count(PatchGANDiscriminator(n_layers=3, ndf=64)) == 2_765_633


def test_unet_128_has_seven_levels_and_three_dropout_blocks():
    g = build_generator("unet_128", ngf=8)
    names = [layer.name for layer in g.layers]
    assert "down7_conv" in names and "down8_conv" not in names
    assert sorted(n for n in names if n.endswith("_dropout")) == ["up4_dropout", "up5_dropout", "up6_dropout"]


@pytest.mark.parametrize("height,width", [(64, 64), (32, 96), (128, 64)])
def test_generator_is_fully_convolutional(height, width):
    g = UNetGenerator(levels=4, ngf=4)
    out = g(np.random.default_rng(0).uniform(-1, 1, (2, height, width, 1)).astype("float32"))
    assert tuple(out.shape) == (2, height, width, 2)
    out = np.asarray(out)
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_discriminator_sees_l_and_ab_pairs():
    d = PatchGANDiscriminator(n_layers=3, ndf=4)
    out = d([np.zeros((1, 256, 256, 1), "float32"), np.zeros((1, 256, 256, 2), "float32")])
    assert tuple(out.shape) == (1, 30, 30, 1)  # the 70x70 PatchGAN's 30x30 patch grid


def test_every_layer_is_named_and_weights_start_at_n_0_002():
    g = UNetGenerator(levels=5, ngf=16, norm="instance")
    for layer in g.layers[1:]:
        assert layer.name.split("_")[0].rstrip("0123456789") in ("down", "up", "ab"), layer.name
    kernel = g.get_layer("down2_conv").kernel.numpy()
    assert kernel.mean() == pytest.approx(0.0, abs=0.002)
    assert kernel.std() == pytest.approx(0.02, rel=0.1)


def test_instance_norm_is_group_norm_with_one_group_per_channel():
    import keras

    g = UNetGenerator(levels=3, ngf=4, norm="instance")
    norm = g.get_layer("down2_norm")
    assert isinstance(norm, keras.layers.GroupNormalization) and norm.groups == 8


def test_size_rule_rejects_sizes_that_do_not_divide():
    check_image_size(256, "unet_256")
    with pytest.raises(ValueError, match="multiple of 256"):
        check_image_size(200, "unet_256")
    with pytest.raises(ValueError, match="multiple of 8"):
        check_image_size(60, "unet_256", levels=3)


def test_each_family_has_its_own_default_training_size_and_a_run_records_it():
    from keras_colorizer.run.options import TrainOptions

    assert default_image_size("efficientnet_lite0_unet") == 224  # ImageNet's scale
    assert default_image_size("unet_128") == 128 and default_image_size("unet_256") == 256
    assert default_image_size("unet_256", levels=3) == 128
    assert TrainOptions().validate().image_size == 224
    assert TrainOptions(generator="unet_256").validate().image_size == 256
    assert TrainOptions(image_size=128).validate().to_dict()["image_size"] == 128  # a size given is kept


def test_resize_upsampling_keeps_shapes_and_replaces_transposed_convs():
    import keras

    g = UNetGenerator(levels=4, ngf=8, upsample="resize")
    out = g(np.zeros((1, 48, 64, 1), "float32"))
    assert tuple(out.shape) == (1, 48, 64, 2)
    assert not any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in g.layers)
    assert g.get_layer("up2_conv").kernel.shape[:2] == (3, 3)
    with pytest.raises(ValueError, match="upsample"):
        UNetGenerator(levels=3, upsample="nearest")
