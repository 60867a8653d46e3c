"""The pix2pix step with JAX: a pure function of the state Keras' JAX trainer carries.

Keras passes (trainable, non-trainable, optimizer, metrics) values in and
takes them back out. `Pix2Pix.optimizer` is an `OptimizerPair`, so the
optimizer values hold both Adam states, generator's first; both are updated
here and returned, none is dropped.

The generator runs forward once: `jax.vjp` keeps its backward pass, which is
fed the gradient of the generator's loss with respect to its output after
the discriminator has been updated, as the TensorFlow step does with a tape.
Under `keras.distribution.DataParallel` the batch is one global array, so the
means below are over the global batch already.
"""

import jax
from keras import StatelessScope

from keras_colorizer.gan.losses import l1_loss


class _Values:
    """The state's values by variable, so each network gets its own lists."""

    def __init__(self):
        self._by_id = {}

    def set(self, variables, values):
        self._by_id.update((id(v), value) for v, value in zip(variables, values))

    def get(self, variables):
        return [self._by_id[id(v)] for v in variables]


class _Discriminate:
    """The discriminator in training mode as `Pix2Pix.judge` calls it, its non-trainable state carried from call to call."""

    def __init__(self, discriminator, weights, state):
        self.discriminator, self.weights, self.state = discriminator, weights, state

    def __call__(self, pairs):
        logits, self.state = self.discriminator.stateless_call(self.weights, self.state, pairs, training=True)
        return logits


def _scale(optimizer, optimizer_values, loss):
    """`optimizer.scale_loss(loss)` read from the carried values (a LossScaleOptimizer's scale)."""
    with StatelessScope(state_mapping=list(zip(optimizer.variables, optimizer_values))):
        return optimizer.scale_loss(loss)


def train_step(model, state, batch):
    trainable, non_trainable, optimizer_values, metrics_values = state
    generator, discriminator = model.generator, model.discriminator
    g_optimizer, d_optimizer = model.g_optimizer, model.d_optimizer
    values = _Values()
    values.set(model.trainable_variables, trainable)
    values.set(model.non_trainable_variables, non_trainable)
    g_count = len(g_optimizer.variables)
    g_opt, d_opt = list(optimizer_values[:g_count]), list(optimizer_values[g_count:])
    g_weights, d_weights = values.get(generator.trainable_variables), values.get(discriminator.trainable_variables)
    g_state, d_state = values.get(generator.non_trainable_variables), values.get(discriminator.non_trainable_variables)
    (gan_weight,) = values.get([model.gan_weight])

    l_norm, ab_real = model.to_lab(batch)
    # The consistency crop's offset and the discriminator's noise, their random state carried like the others.
    film_state = model.film_seeds.state
    with StatelessScope(state_mapping=[(film_state, values.get([film_state])[0])]) as scope:
        offset = model.crop_offset()
        real_noise, fake_noise = model.discriminator_noise(ab_real.shape) or (None, None)
    values.set([film_state], [scope.get_current_value(film_state)])

    # (ab,) or (ab, bin logits): the view shares the generator's variables, listed in the same order.
    network = generator if model.generator_with_logits is None else model.generator_with_logits

    def generate(weights):
        outputs, new_state = network.stateless_call(weights, g_state, l_norm, training=True)
        outputs = tuple(outputs) if isinstance(outputs, (list, tuple)) else (outputs,)
        if offset is None:
            return outputs, new_state
        # The consistency term (`ExtraLosses.lambda_temporal`) rides along as a last output.
        moved, new_state = generator.stateless_call(weights, new_state, model.crop(l_norm, offset), training=True)
        return outputs + (l1_loss(moved, model.crop(outputs[0], offset)),), new_state

    outputs, generator_backward, g_state = jax.vjp(generate, g_weights, has_aux=True)
    ab_fake = outputs[0]

    real_seen = model.as_seen(ab_real, real_noise)

    def discriminator_objective(weights):
        discriminate = _Discriminate(discriminator, weights, d_state)
        fake_seen = model.as_seen(jax.lax.stop_gradient(ab_fake), fake_noise)
        real_logits, fake_logits = model.judge(discriminate, l_norm, real_seen, fake_seen)
        d_loss, d_real, d_fake = model.discriminator_loss(real_logits, fake_logits)
        return _scale(d_optimizer, d_opt, d_loss), (discriminate.state, d_loss, d_real, d_fake)

    d_grads, (d_state, d_loss, d_real, d_fake) = jax.grad(discriminator_objective, has_aux=True)(d_weights)
    d_weights, d_opt = d_optimizer.stateless_apply(d_opt, d_grads, d_weights)

    def generator_objective(outputs):
        temporal = {}
        if offset is not None:
            *outputs, temporal["g_temporal"] = outputs
        ab, *class_logits = outputs
        discriminate = _Discriminate(discriminator, d_weights, d_state)
        fooled_logits = model.judge_generated(discriminate, l_norm, real_seen, model.as_seen(ab, fake_noise))
        g_loss, g_parts = model.generator_loss(fooled_logits, ab, ab_real, gan_weight, *class_logits)
        if temporal:
            g_loss = g_loss + model.lambda_temporal * temporal["g_temporal"]
        return _scale(g_optimizer, g_opt, g_loss), (discriminate.state, {**g_parts, **temporal})

    output_grads, (d_state, g_parts) = jax.grad(generator_objective, has_aux=True)(outputs)
    (g_grads,) = generator_backward(output_grads)
    g_weights, g_opt = g_optimizer.stateless_apply(g_opt, g_grads, g_weights)

    values.set(generator.trainable_variables, g_weights)
    values.set(discriminator.trainable_variables, d_weights)
    values.set(generator.non_trainable_variables, g_state)
    values.set(discriminator.non_trainable_variables, d_state)
    (steps_taken,) = values.get([model.steps_taken])
    values.set([model.steps_taken], [steps_taken + 1])

    with StatelessScope(state_mapping=list(zip(model.metrics_variables, metrics_values))) as scope:
        logs = model.record({"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake, **g_parts})
    metrics_values = [scope.get_current_value(v) for v in model.metrics_variables]
    state = (
        values.get(model.trainable_variables),
        values.get(model.non_trainable_variables),
        g_opt + d_opt,
        metrics_values,
    )
    return logs, state


def test_step(model, state, batch):
    trainable, non_trainable, metrics_values = state
    mapping = (
        list(zip(model.trainable_variables, trainable))
        + list(zip(model.non_trainable_variables, non_trainable))
        + list(zip(model.metrics_variables, metrics_values))
    )
    with StatelessScope(state_mapping=mapping) as scope:
        logs = model.score_batch(batch)
    metrics_values = [scope.get_current_value(v) for v in model.metrics_variables]
    return logs, (trainable, non_trainable, metrics_values)
