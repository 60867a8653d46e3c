"""The pix2pix learning-rate schedule: constant, then linear decay to zero."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_colorizer")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`initial` for `constant_steps` steps, then linearly down to 0 over `decay_steps`.

    The paper trains at a constant rate for half the epochs and decays it
    linearly to zero over the other half. The rate depends on the optimizer's
    step count alone, so a resumed run follows the same curve.
    """

    def __init__(self, initial, constant_steps, decay_steps):
        self.initial = float(initial)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        if self.decay_steps <= 0:
            return ops.convert_to_tensor(self.initial, "float32") + 0.0 * step
        done = ops.clip((step - self.constant_steps) / self.decay_steps, 0.0, 1.0)
        return self.initial * (1.0 - done)

    def get_config(self):
        return {"initial": self.initial, "constant_steps": self.constant_steps, "decay_steps": self.decay_steps}
