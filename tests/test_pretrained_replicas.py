"""The Lite0 generator trained three ways that must agree: straight, stopped and resumed, and on two replicas.

Its own file so that pytest-xdist (`--dist loadfile`) runs it beside the other pretrained-encoder tests.
"""

import keras
import numpy as np

from keras_colorizer.models import build_generator
from tests.conftest import indexed_weights, tiny_options


def test_lite0_encoder_learns_slowly_resumes_exactly_and_trains_alike_on_two_replicas(tmp_path):
    """One run, three ways: straight in this process; stopped after its frozen epoch and resumed; on two
    CPU replicas (mirrored) in a process of its own. The encoder's tenth of the learning rate,
    resume equivalence and a strategy for the pretrained family. (JAX: tests/test_backends.py makes the
    TensorFlow and the JAX step agree on a Lite0 generator.)"""
    from keras_colorizer.run.checkpoint import find_checkpoint, load_generator
    from keras_colorizer.run.training import train
    from tests.test_distribute import finish, start_worker

    options = dict(generator="efficientnet_lite0_unet", jitter=False, dropout=0.0, batch_size=4, epochs=2,
                   steps_per_epoch=2, val_split=0.3, encoder_lr_scale=0.1)
    # Started first: most of a worker's time is single-threaded start-up and tracing.
    mirrored = start_worker(tmp_path, "mirrored", tiny_options(tmp_path, name="mirrored", strategy="mirrored", **options).to_dict(),
                            logical_cpus=2)

    before = build_generator("efficientnet_lite0_unet", **tiny_options(tmp_path, **options).generator_settings())
    straight = train(tiny_options(tmp_path, name="straight", **options), verbose=0)
    first = train(tiny_options(tmp_path, name="parts", **options), max_steps=2, verbose=0)
    kernel = "block3_dwconv"
    slow = first.model.generator
    moved = np.abs(slow.get_layer(kernel).kernel.numpy() - before.get_layer(kernel).kernel.numpy()).max()
    # Two steps of Adam at a tenth of the rate: about lr each, a little more when the gradient turns (measured 1.02x).
    assert 0 < moved <= 2 * 2e-4 * 0.1 * 1.1
    assert not np.array_equal(slow.get_layer("dec4_conv").kernel.numpy(), before.get_layer("dec4_conv").kernel.numpy())

    resumed = train(resume=first.run_dir, verbose=0)
    assert resumed.steps == straight.steps == 4
    moved = np.abs(resumed.model.generator.get_layer(kernel).kernel.numpy() - before.get_layer(kernel).kernel.numpy()).max()
    assert 0 < moved <= 4 * 2e-4 * 0.1 * 1.1  # four steps of Adam at a tenth of the learning rate
    a = load_generator(find_checkpoint(straight.run_dir))
    b = load_generator(find_checkpoint(resumed.run_dir))
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, atol=1e-5)

    expected = {(f"{prefix}_weight", i): keras.ops.convert_to_numpy(w)
                for prefix, network in (("g", straight.model.generator), ("d", straight.model.discriminator))
                for i, w in enumerate(network.weights)}
    two_replicas = indexed_weights(finish(*mirrored)[0])
    assert two_replicas.keys() == expected.keys() and len(expected) > 100
    for key, value in expected.items():
        # Replicas sum gradients and statistics in another order. rtol: the decoder's moving variances reach
        # 5-27 with lambda 300 (3.1e-5 relative seen after the 4 steps; 1e-5 held at lambda 100); atol: Adam
        # scales each update to about the learning rate (2e-4), so a gradient near 0 summed in another order
        # moves a weight by a part of that (1.2e-5 seen after the 4 steps).
        np.testing.assert_allclose(two_replicas[key], value, rtol=1e-4, atol=3e-5, err_msg=str(key))
