"""The FLOP count behind bench/train_throughput.py's rates and share of peak, checked by hand on tiny models."""

import sys

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

from flops import conv_flops, train_step_flops  # noqa: E402
from keras_colorizer.models import PatchGANDiscriminator, UNetGenerator  # noqa: E402


def tiny_pair():
    return UNetGenerator(levels=2, ngf=4), PatchGANDiscriminator(n_layers=1, ndf=4)


def test_each_convolution_counts_two_operations_per_multiply_add():
    generator, discriminator = tiny_pair()
    # batch 2, 8x8: 2 * batch * positions * 4*4 kernel * in * out; a transposed
    # convolution's positions are those of its input
    assert conv_flops(generator, [(2, 8, 8, 1)]) == [
        ("down1_conv", 2 * 2 * 16 * 16 * 1 * 4),  # 8x8 -> 4x4, 1 -> 4
        ("down2_conv", 2 * 2 * 4 * 16 * 4 * 8),  # 4x4 -> 2x2, 4 -> 8
        ("up2_conv", 2 * 2 * 4 * 16 * 8 * 4),  # 2x2 -> 4x4, 8 -> 4
        ("up1_conv", 2 * 2 * 16 * 16 * 8 * 2),  # 4x4 -> 8x8, 4 + 4 skip -> 2
    ]
    assert conv_flops(discriminator, [(2, 8, 8, 1), (2, 8, 8, 2)]) == [
        ("conv1", 2 * 2 * 16 * 16 * 3 * 4),  # (L, ab) 8x8 -> 4x4
        ("conv2", 2 * 2 * 9 * 16 * 4 * 8),  # stride 1, padding 1: 4x4 -> 3x3
        ("conv3", 2 * 2 * 4 * 16 * 8 * 1),  # 3x3 -> 2x2 logits
    ]


def test_a_training_step_is_three_generator_passes_and_eight_discriminator_passes():
    generator, discriminator = tiny_pair()
    g_first = 2 * 2 * 16 * 16 * 1 * 4
    g_total = g_first + 2 * 2 * 4 * 16 * 4 * 8 + 2 * 2 * 4 * 16 * 8 * 4 + 2 * 2 * 16 * 16 * 8 * 2
    d_first = 2 * 2 * 16 * 16 * 3 * 4
    d_total = d_first + 2 * 2 * 9 * 16 * 4 * 8 + 2 * 2 * 4 * 16 * 8 * 1
    # G forward + both gradients, no input gradient for L; D forward + both
    # gradients on the real and the generated pair (no input gradients into
    # the pairs), then forward + input gradient for the generator's update
    expected = 3 * g_total - g_first + 8 * d_total - 2 * d_first
    assert train_step_flops(generator, discriminator, batch=2, size=8) == expected
