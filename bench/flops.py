"""Floating-point work of a pix2pix training step, counted from the models' convolutions.

Convolutions are nearly all of the arithmetic (batch norm, activations and
the losses are a fraction of a percent), so the count is theirs: a
convolution's forward pass is 2 * output positions * kernel height * width *
input channels * output channels operations (a transposed convolution's,
with its input positions), its input gradient and its weight gradient as
much again each.

One training step (`keras_colorizer.gan.steps`) runs
- the generator forward, then its input and weight gradients: 3 G, less the
  first layer's input gradient (the L channel needs none);
- the discriminator forward on the real and on the generated pair, with
  weight and input gradients for its update: 6 D, less the first layer's
  input gradient twice (neither pair's input needs one);
- the updated discriminator forward on the generated pair and the input
  gradient back to the generator, no weight gradient: 2 D.
"""

import keras


def conv_flops(model, input_shapes):
    """[(layer name, forward operations)] for each convolution of a functional model, for inputs of these shapes."""
    convs = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    probe = keras.Model(model.inputs, [layer.output for layer in convs])
    inputs = [keras.KerasTensor(shape) for shape in input_shapes]
    outputs = probe.compute_output_spec(inputs if len(inputs) > 1 else inputs[0])
    counts = []
    for layer, output in zip(convs, outputs):
        kernel_h, kernel_w = layer.kernel_size
        batch, height, width, _ = output.shape
        if isinstance(layer, keras.layers.Conv2DTranspose):
            out_channels, in_channels = layer.kernel.shape[2:]
            positions = (height // layer.strides[0]) * (width // layer.strides[1])
        else:
            in_channels, out_channels = layer.kernel.shape[2:]
            positions = height * width
        counts.append((layer.name, 2 * batch * positions * kernel_h * kernel_w * in_channels * out_channels))
    return counts


def train_step_flops(generator, discriminator, batch, size):
    """Operations of one training step on `batch` images of `size` x `size` (see the module's docstring)."""
    g = conv_flops(generator, [(batch, size, size, 1)])
    d = conv_flops(discriminator, [(batch, size, size, 1), (batch, size, size, 2)])
    g_total, d_total = sum(f for _, f in g), sum(f for _, f in d)
    return 3 * g_total - g[0][1] + 8 * d_total - 2 * d[0][1]
