"""Adam with one fused update kernel per variable on TensorFlow.

Keras 3's Adam updates a variable with about ten element-wise operations,
each a pass over memory. TensorFlow's `ResourceApplyAdam` does the same
update in one pass (the time saved is in docs/benchmarks.md). The arithmetic is
Keras' own (the same bias-corrected step size and epsilon), the moment
variables are the same, so checkpoints do not change.

The fused kernel is used with the TensorFlow backend outside `tf.distribute`
strategies; elsewhere (JAX, strategies, amsgrad) this is Keras' Adam.

Some variables (a pretrained encoder's) may learn more slowly: their
learning rate is `slow_lr_scale` times the others', and 0 (frozen) before
step `slow_start_step`. Both depend on the optimizer's own step count, so
a resumed run follows the same schedule on either backend.
"""

import keras
from keras import ops

from keras_colorizer.compat import adam_slots, variable_index


class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, with TensorFlow's fused update kernel where it applies.

    Args:
        slow_variables: paths of the variables that learn at `slow_lr_scale`
            times the learning rate, and not at all before `slow_start_step`.
        *args, **kwargs: those of `keras.optimizers.Adam`.
    """

    def __init__(self, *args, slow_variables=(), slow_lr_scale=1.0, slow_start_step=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.slow_variables = frozenset(slow_variables)
        self.slow_lr_scale = float(slow_lr_scale)
        self.slow_start_step = int(slow_start_step)

    def build(self, variables):
        super().build(variables)
        self._slow_indices = {i for i, v in enumerate(variables) if v.path in self.slow_variables}

    def _learning_rate_of(self, variable, learning_rate):
        if not self.slow_variables or variable_index(self, variable) not in self._slow_indices:
            return learning_rate
        started = ops.cast(ops.greater_equal(self.iterations, self.slow_start_step), learning_rate.dtype)
        return learning_rate * (self.slow_lr_scale * started)

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = self._learning_rate_of(variable, ops.convert_to_tensor(learning_rate))
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
