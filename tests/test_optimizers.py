"""FusedAdam: TensorFlow's fused kernel computes Keras' Adam update."""

import keras
import numpy as np
import tensorflow as tf

from keras_colorizer.gan.optimizers import FusedAdam
from keras_colorizer.gan.schedules import ConstantThenLinearDecay


def test_fused_adam_follows_keras_adam_step_for_step():
    rng = np.random.default_rng(0)
    initial = [rng.normal(size=(3, 3, 4, 8)).astype("float32"), rng.normal(size=(8,)).astype("float32")]
    gradients = [[rng.normal(size=w.shape).astype("float32") for w in initial] for _ in range(6)]
    results = []
    for cls in (keras.optimizers.Adam, FusedAdam):
        weights = [keras.Variable(w) for w in initial]
        optimizer = cls(ConstantThenLinearDecay(1e-2, 3, 3), beta_1=0.5)
        step = tf.function(lambda grads: optimizer.apply_gradients(zip(grads, weights)))
        for grads in gradients:
            step([tf.constant(g) for g in grads])
        results.append([np.asarray(v) for v in weights + list(optimizer.variables)])
    keras_adam, fused = results
    assert len(keras_adam) == len(fused)  # the same moment variables: checkpoints are interchangeable
    for a, b in zip(keras_adam, fused):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert np.abs(keras_adam[0] - initial[0]).max() > 1e-2  # the weights did move
