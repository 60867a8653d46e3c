"""Adam with one fused update kernel per variable on TensorFlow.

Keras 3's Adam updates a variable with about ten element-wise operations,
each a pass over memory. TensorFlow's `ResourceApplyAdam` does the same
update in one pass (the time saved is in docs/benchmarks.md). The arithmetic is
Keras' own (the same bias-corrected step size and epsilon), the moment
variables are the same, so checkpoints do not change.

The fused kernel is used with the TensorFlow backend outside `tf.distribute`
strategies; elsewhere (JAX, strategies, amsgrad) this is Keras' Adam.
"""

import keras
from keras import ops

from keras_colorizer.compat import adam_slots


class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, with TensorFlow's fused update kernel where it applies."""

    def update_step(self, gradient, variable, learning_rate):
        if keras.backend.backend() != "tensorflow" or self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        if tf.distribute.has_strategy() or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        momentum, velocity = adam_slots(self, variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=momentum.value.handle,
            v=velocity.value.handle,
            beta1_power=ops.power(ops.cast(self.beta_1, dtype), step),
            beta2_power=ops.power(ops.cast(self.beta_2, dtype), step),
            lr=ops.cast(learning_rate, dtype),
            beta1=ops.cast(self.beta_1, dtype),
            beta2=ops.cast(self.beta_2, dtype),
            epsilon=ops.cast(self.epsilon, dtype),
            grad=ops.cast(gradient, dtype),
        )
