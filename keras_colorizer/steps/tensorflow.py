"""The pix2pix step with TensorFlow: gradient tapes, any `tf.distribute` strategy, loss scaling.

Under a strategy each replica sees its share of the global batch, and the
optimizers sum the replicas' gradients. A replica's mean loss is therefore
divided by the number of replicas before its gradients are taken, so that
the summed update equals the single-device update on the global batch. The
losses the trackers record stay unscaled (per-replica means, averaged).
"""

import tensorflow as tf
from keras import ops


def _per_replica(loss):
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss * (1.0 / replicas)


def _minimize(optimizer, tape, loss, variables):
    """Gradients of the (replica-share, loss-scaled) loss, applied; a LossScaleOptimizer unscales them."""
    scaled = optimizer.scale_loss(_per_replica(loss))
    optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))


def train_step(model, batch):
    l_norm, ab_real = model.to_lab(batch)
    with tf.GradientTape() as g_tape:
        ab_fake = model.generator(l_norm, training=True)
        with g_tape.stop_recording():
            with tf.GradientTape() as d_tape:
                real_logits = model.discriminator([l_norm, ab_real], training=True)
                fake_logits = model.discriminator([l_norm, ops.stop_gradient(ab_fake)], training=True)
                d_loss, d_real, d_fake = model.discriminator_loss(real_logits, fake_logits)
            _minimize(model.d_optimizer, d_tape, d_loss, model.discriminator.trainable_variables)

        fooled_logits = model.discriminator([l_norm, ab_fake], training=True)
        g_loss, g_gan, g_l1 = model.generator_loss(fooled_logits, ab_fake, ab_real, model.gan_weight)
    _minimize(model.g_optimizer, g_tape, g_loss, model.generator.trainable_variables)
    model.steps_taken.assign_add(1)
    return model.record({"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake, "g_gan": g_gan, "g_l1": g_l1})


def test_step(model, batch):
    return model.score_batch(batch)
