"""The pix2pix step with TensorFlow: gradient tapes, any `tf.distribute` strategy, loss scaling.

Under a strategy each replica sees its share of the global batch, and the
optimizers sum the replicas' gradients. A replica's mean loss is therefore
divided by the number of replicas before its gradients are taken, so that
the summed update equals the single-device update on the global batch. The
losses the trackers record stay unscaled (per-replica means, averaged).
"""

import tensorflow as tf
from keras import ops

from keras_colorizer.gan.losses import l1_loss


def _for_gradients(optimizer, loss):
    """This replica's share of the loss, scaled by the optimizer's loss scale (call it under the tape)."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        loss = loss * (1.0 / replicas)
    return optimizer.scale_loss(loss)


def _apply(optimizer, tape, scaled_loss, variables):
    """Apply the gradients of a scaled loss; a LossScaleOptimizer unscales them (and skips overflows)."""
    optimizer.apply_gradients(zip(tape.gradient(scaled_loss, variables), variables))


def _across_workers(strategy):
    """Whether a MultiWorkerMirroredStrategy spans more than one worker (its cluster lists several)."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    jobs = strategy.cluster_resolver.cluster_spec().as_dict()
    return len(jobs.get("worker", [])) + len(jobs.get("chief", [])) > 1


def _logs(logs):
    """Logs shaped for Keras' reduction across workers.

    With several workers Keras 3 reduces step outputs with
    `strategy.reduce("MEAN", v, axis=0)`, which fails on scalars ("Invalid
    reduction dimension 0 for input with 0 dimensions", tensorflow/tensorflow
    issue 72388). A length-1 axis gives it the axis it reduces over; the
    result is the same scalar mean.
    """
    if _across_workers(tf.distribute.get_strategy()):
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


def train_step(model, batch):
    l_norm, ab_real = model.to_lab(batch)
    offset = model.crop_offset()
    real_noise, fake_noise = model.discriminator_noise(ops.shape(ab_real)) or (None, None)
    real_seen = model.as_seen(ab_real, real_noise)

    def discriminate(pairs):
        return model.discriminator(pairs, training=True)

    with tf.GradientTape() as g_tape:
        ab_fake, *class_logits = model.generate(l_norm, training=True)
        temporal = {}
        if offset is not None:  # the same pixels coloured in a moved frame: a video's consistency
            ab_moved = model.generator(model.crop(l_norm, offset), training=True)
            temporal["g_temporal"] = l1_loss(ab_moved, model.crop(ab_fake, offset))
        with g_tape.stop_recording():
            with tf.GradientTape() as d_tape:
                real_logits, fake_logits = model.judge(
                    discriminate, l_norm, real_seen, model.as_seen(ops.stop_gradient(ab_fake), fake_noise)
                )
                d_loss, d_real, d_fake = model.discriminator_loss(real_logits, fake_logits)
                d_scaled = _for_gradients(model.d_optimizer, d_loss)
            _apply(model.d_optimizer, d_tape, d_scaled, model.discriminator.trainable_variables)

        fooled_logits = model.judge_generated(discriminate, l_norm, real_seen, model.as_seen(ab_fake, fake_noise))
        g_loss, g_parts = model.generator_loss(fooled_logits, ab_fake, ab_real, model.gan_weight, *class_logits)
        if temporal:
            g_loss = g_loss + model.lambda_temporal * temporal["g_temporal"]
        g_scaled = _for_gradients(model.g_optimizer, g_loss)
    _apply(model.g_optimizer, g_tape, g_scaled, model.generator.trainable_variables)
    model.steps_taken.assign_add(1)
    return _logs(model.record({"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake, **g_parts, **temporal}))


def test_step(model, batch):
    return _logs(model.score_batch(batch))
