"""Pix2Pix: the conditional GAN that trains the generator, as a `keras.Model`.

`model.fit` drives it. Each step takes a batch of uint8 images (sRGB, or
OpenCV 8-bit Lab for the Kaggle arrays), resizes it to the training size if
the host handed over another, converts it to (L, ab) on the device, then

1. updates the discriminator on real pairs (L, ab) against generated pairs
   (L, G(L)), its loss halved as in the paper;
2. updates the generator on the adversarial loss against the updated
   discriminator plus lambda_l1 * |G(L) - ab| (plus lambda_class times the
   cross-entropy of its ab bin logits, for a generator with an `ab_logits`
   layer: `ab_classes`).

The step itself is written once per backend (`keras_colorizer.gan.steps`): with
TensorFlow it uses gradient tapes and runs under any `tf.distribute`
strategy; with JAX it is a pure function of the state Keras carries.
"""

import keras
import numpy as np
from keras import ops

from keras_colorizer import color
from keras_colorizer.models import ab_classes
from keras_colorizer.gan import rebalance
from keras_colorizer.gan.losses import GAN_MODES, ExtraLosses, gan_loss, l1_loss
from keras_colorizer.metrics import psnr

ENCODINGS = ("rgb", "lab8")
# How the discriminator's batch norm sees a step's pairs: real and generated each in a batch of its own (the
# pix2pix code's way), or both in one batch, so that no batch statistic tells the two apart.
D_BATCHES = ("separate", "joint")


def class_logits_view(generator):
    """L -> [ab, bin logits] over the generator's own layers when it has an `ab_logits` layer, else None."""
    if "ab_logits" not in [layer.name for layer in generator.layers]:
        return None
    view = keras.Model(generator.inputs, [generator.outputs[0], generator.get_layer("ab_logits").output],
                       name=f"{generator.name}_with_logits")
    # The JAX step hands the view the generator's variable values in the generator's order.
    for listing in ("trainable_variables", "non_trainable_variables"):
        if [id(v) for v in getattr(view, listing)] != [id(v) for v in getattr(generator, listing)]:
            raise RuntimeError(f"{view.name} lists its {listing} in another order than {generator.name}")
    return view


class OptimizerPair:
    """The generator's and the discriminator's optimizers, seen by Keras as `model.optimizer`.

    Keras' trainers know one optimizer. The JAX trainer carries
    `model.optimizer.variables` through every step and writes them back at
    the end: with both lists joined here, neither optimizer's state is
    dropped. TensorBoard reads each one's learning rate from `optimizers`.
    """

    built = True

    def __init__(self, g_optimizer, d_optimizer):
        self.optimizers = [g_optimizer, d_optimizer]

    @property
    def variables(self):
        return self.optimizers[0].variables + self.optimizers[1].variables

    @property
    def iterations(self):
        return self.optimizers[0].iterations

    def build(self, _variables=None):
        """Both optimizers are built by `Pix2Pix.build_optimizers` on their own networks."""


@keras.saving.register_keras_serializable(package="keras_colorizer")
class Pix2Pix(keras.Model):
    """The generator and the discriminator, trained together.

    Args:
        generator: L (N, H, W, 1) -> ab (N, H, W, 2), both in [-1, 1].
        discriminator: [L, ab] -> patch logits.
        encoding: what the uint8 training batches hold: `"rgb"` (sRGB) or
            `"lab8"` (OpenCV 8-bit Lab). Batches may also be given as a
            float pair (L, ab) in network range.
        seed: seed of the training-only draws (the offsets of the video consistency term, `ExtraLosses`).

    uint8 batches of another size than the generator's `image_size` (the
    side it trains at) are resized to it on the device (bilinear); with no
    `image_size` they are taken as given.

    Example:
    >>> model = Pix2Pix(UNetGenerator(levels=3, ngf=8), PatchGANDiscriminator(ndf=8))
    >>> model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...               d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    >>> model.fit(dataset, epochs=1, steps_per_epoch=10)
    """

    def __init__(self, generator, discriminator, encoding="rgb", seed=0, **kwargs):
        super().__init__(**kwargs)
        if encoding not in ENCODINGS:
            raise ValueError(f"Unknown image encoding. Expected one of: {', '.join(ENCODINGS)}. Received: encoding={encoding!r}")
        from keras_colorizer.gan import steps

        self._train_step, self._test_step = steps.for_backend(keras.backend.backend())
        self.generator = generator
        self.discriminator = discriminator
        self.encoding = encoding
        self.seed = seed
        # Draws the consistency crop's offset; its state is saved with each checkpoint (named for the
        # old-film options it also drew for once, as checkpoints store it).
        self.film_seeds = keras.random.SeedGenerator(seed, name="film_seeds")
        # Not an attribute Keras tracks: the view holds the generator's layers, saved once, with the generator.
        object.__setattr__(self, "generator_with_logits", class_logits_view(generator))
        losses = ("d_loss", "d_real", "d_fake", "g_gan", "g_l1") + (() if self.generator_with_logits is None else ("g_class",))
        self.trackers = {name: keras.metrics.Mean(name=name) for name in losses}
        self.val_trackers = {name: keras.metrics.Mean(name=name) for name in ("l1", "psnr")}
        # Weight of the adversarial term in the generator's loss: 0 during an
        # L1-only warm-up (`WarmUpSchedule` sets it per epoch), 1 after.
        self.gan_weight = keras.Variable(1.0, trainable=False, dtype="float32", name="gan_weight")
        # Training steps taken. The optimizers' `iterations` are not a step
        # count: a loss-scaled optimizer skips the steps whose gradients overflow.
        self.steps_taken = keras.Variable(
            0, trainable=False, dtype="int32", aggregation="only_first_replica", name="steps_taken"
        )
        # Both networks are built functional models; nothing is left for `fit` to build
        # (it would otherwise trace `call` with a training batch of uint8 images).
        self.built = True

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "encoding": self.encoding,
            "seed": self.seed,
        }

    @property
    def image_size(self):
        """The side the step trains at: the generator's (one fact, held there)."""
        return self.generator.image_size

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("image_size", None)  # saved by earlier versions; the generator's config holds it
        for network in ("generator", "discriminator"):
            config[network] = keras.saving.deserialize_keras_object(config[network])
        return cls(**config)

    def compile(self, g_optimizer, d_optimizer, gan_mode="lsgan", lambda_l1=100.0, extra_losses=None, d_noise=0.0,
                d_batch="separate", **kwargs):
        """Set the two optimizers and the loss; other keyword arguments go to `Model.compile`.

        The losses are the pix2pix ones: the GAN loss (`gan_mode`,
        `"lsgan"` or `"vanilla"`) plus `lambda_l1` times L1. `loss`,
        `metrics` and a single `optimizer` are refused rather than ignored.
        Under a `mixed_float16` policy wrap each optimizer in
        `keras.optimizers.LossScaleOptimizer`; the step scales each loss with
        its own optimizer's scale. `extra_losses` (`gan.losses.ExtraLosses`)
        turns on the research terms: colour rebalancing, a classifying
        generator's cross-entropy, video consistency; the `g_l1` log stays
        the plain L1. `d_noise` > 0 adds Gaussian noise of that standard
        deviation (network units: 0.1 is 11 CIELAB units) to every ab the
        discriminator sees, real and generated alike (instance noise,
        Sønderby et al. 2016): the discriminator must then judge colour
        that survives the noise, not fine texture only real photos carry.
        `d_batch="joint"` shows the discriminator the real and the generated
        pairs in one batch, in its update and in the generator's: with batch
        norm, pairs judged in batches of their own can be told apart by the
        batch's statistics (how colourful the batch is as a whole) rather
        than photo by photo.
        """
        ignored = sorted(k for k in ("loss", "loss_weights", "metrics", "weighted_metrics", "optimizer") if k in kwargs)
        if ignored:
            raise ValueError(
                f"Pix2Pix.compile takes g_optimizer, d_optimizer, gan_mode and lambda_l1; its losses and "
                f"metrics are fixed. Received: {', '.join(ignored)}"
            )
        moved = sorted(k for k in ("ab_weights", "lambda_class", "lambda_temporal", "temporal_shift") if k in kwargs)
        if moved:
            raise ValueError(f"Pass {', '.join(moved)} as extra_losses=ExtraLosses(...) (keras_colorizer.gan.losses).")
        extra = ExtraLosses() if extra_losses is None else extra_losses
        if gan_mode not in GAN_MODES:
            raise ValueError(f"Unknown GAN loss. Expected one of: {', '.join(GAN_MODES)}. Received: gan_mode={gan_mode!r}")
        if lambda_l1 < 0 or extra.lambda_class < 0:
            raise ValueError(
                f"lambda_l1 and lambda_class must be >= 0. Received: lambda_l1={lambda_l1}, lambda_class={extra.lambda_class}"
            )
        if d_batch not in D_BATCHES:
            raise ValueError(f"Unknown d_batch. Expected one of: {', '.join(D_BATCHES)}. Received: d_batch={d_batch!r}")
        if not 0 <= d_noise <= 1:
            raise ValueError(f"d_noise must be in [0, 1] (network units). Received: d_noise={d_noise}")
        if extra.lambda_temporal < 0 or extra.temporal_shift < 1:
            raise ValueError(
                f"lambda_temporal must be >= 0 and temporal_shift >= 1. Received: {extra.lambda_temporal}, {extra.temporal_shift}"
            )
        ab_weights = extra.ab_weights
        if ab_weights is not None:
            ab_weights = np.asarray(ab_weights, "float32")
            if ab_weights.shape != (rebalance.BINS_PER_AXIS**2,) or not np.all(np.isfinite(ab_weights) & (ab_weights > 0)):
                raise ValueError(
                    f"ab_weights must hold {rebalance.BINS_PER_AXIS**2} positive weights, one per ab bin. "
                    f"Received shape {ab_weights.shape}"
                )
        super().compile(optimizer=None, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.optimizer = OptimizerPair(g_optimizer, d_optimizer)
        self.gan_mode = gan_mode
        self.lambda_l1 = float(lambda_l1)
        self.lambda_class = float(extra.lambda_class)
        self.lambda_temporal, self.temporal_shift = float(extra.lambda_temporal), int(extra.temporal_shift)
        if self.lambda_temporal and "g_temporal" not in self.trackers:
            self.trackers["g_temporal"] = keras.metrics.Mean(name="g_temporal")
        self.ab_weights = ab_weights
        self.d_noise = float(d_noise)
        self.d_batch = d_batch

    def build_optimizers(self):
        """Create both optimizers' variables (needed before restoring their state); once."""
        for optimizer, network in ((self.g_optimizer, self.generator), (self.d_optimizer, self.discriminator)):
            if not optimizer.built:  # a LossScaleOptimizer would add its variables again
                optimizer.build(network.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values()) + list(self.val_trackers.values())

    def call(self, l_norm, training=False):
        return self.generator(l_norm, training=training)

    def generate(self, l_norm, training=False):
        """The generator's outputs the losses need: (ab,), or (ab, bin logits) for a classifying generator."""
        if self.generator_with_logits is None:
            return (self.generator(l_norm, training=training),)
        return tuple(self.generator_with_logits(l_norm, training=training))

    def to_lab(self, batch):
        """A training batch (uint8 images, or a float (L, ab) pair) -> (L, ab) in network range."""
        if isinstance(batch, (tuple, list)):
            l_norm, ab_norm = batch[0], batch[1]
            return ops.cast(l_norm, "float32"), ops.cast(ab_norm, "float32")
        images = ops.cast(batch, "float32")
        if self.image_size is not None and tuple(images.shape[1:3]) != (self.image_size, self.image_size):
            images = ops.image.resize(
                images,
                (self.image_size, self.image_size),
                interpolation="bilinear",
                antialias=images.shape[1] is not None and images.shape[1] > self.image_size,
            )
        if self.encoding == "lab8":
            return color.lab8_to_network(images[..., 0:1], images[..., 1:3])
        return color.rgb_to_network(ops.clip(images / 255.0, 0.0, 1.0))

    def crop_offset(self):
        """(top, left) of the step's consistency crop, drawn from 0 to `temporal_shift`; None without the term."""
        if not self.lambda_temporal:
            return None
        return keras.random.randint((2,), 0, self.temporal_shift + 1, seed=self.film_seeds)

    def discriminator_noise(self, shape):
        """(noise on the real ab, noise on the generated ab) the discriminator sees this step; None without `d_noise`.

        The generated ab carries the same noise in the discriminator's update
        and in the generator's, so both judge the same input.
        """
        if not self.d_noise:
            return None
        return tuple(keras.random.normal(shape, stddev=self.d_noise, seed=self.film_seeds) for _ in range(2))

    @staticmethod
    def as_seen(ab, noise):
        """ab as the discriminator sees it: plus `noise` when there is any."""
        return ab if noise is None else ab + ops.cast(noise, ab.dtype)

    def judge(self, discriminate, l_norm, ab_real, ab_fake):
        """(logits on the real pairs, logits on the generated pairs), for the discriminator's update.

        `discriminate([L, ab])` runs the discriminator in training mode: once
        on both halves together with `d_batch="joint"`, else once on each.
        """
        if self.d_batch == "joint":
            both = discriminate([ops.concatenate([l_norm, l_norm]), ops.concatenate([ab_real, ops.cast(ab_fake, ab_real.dtype)])])
            return tuple(ops.split(both, 2, axis=0))
        return discriminate([l_norm, ab_real]), discriminate([l_norm, ab_fake])

    def judge_generated(self, discriminate, l_norm, ab_real, ab_fake):
        """Logits on the generated pairs, for the generator's update: judged in the same company as in `judge`."""
        if self.d_batch == "joint":
            return self.judge(discriminate, l_norm, ops.stop_gradient(ab_real), ab_fake)[1]
        return discriminate([l_norm, ab_fake])

    def crop(self, images, offset):
        """The consistency crop of a batch: `temporal_shift` pixels smaller, at `offset`."""
        batch, height, width, channels = ops.shape(images)
        start = ops.concatenate([ops.zeros((1,), "int32"), ops.cast(offset, "int32"), ops.zeros((1,), "int32")])
        return ops.slice(images, start, (batch, height - self.temporal_shift, width - self.temporal_shift, channels))

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Nothing to build (see `__init__`).

        Keras' TensorFlow trainer otherwise takes the first batch and
        all-reduces it across replicas just to trace the model, and under
        MultiWorkerMirroredStrategy a collective all-reduce of uint8 images
        fails (CollectiveReduceV2 has no uint8 kernel).
        """

    def train_step(self, *args):
        return self._train_step(self, *args)

    def test_step(self, *args):
        return self._test_step(self, *args)

    def discriminator_loss(self, real_logits, fake_logits):
        """(d_loss, d_real, d_fake): the discriminator's loss, halved as in the paper, and its parts."""
        d_real = gan_loss(real_logits, True, self.gan_mode)
        d_fake = gan_loss(fake_logits, False, self.gan_mode)
        return 0.5 * (d_real + d_fake), d_real, d_fake

    def generator_loss(self, fooled_logits, ab_fake, ab_real, gan_weight, class_logits=None):
        """(g_loss, parts): `gan_weight` * adversarial loss + lambda_l1 * L1 [+ lambda_class * cross-entropy].

        `ab_weights` weight the classification loss when there are
        `class_logits`, else L1. `parts` are the unweighted terms for the
        logs: `g_gan`, `g_l1` and, with `class_logits`, `g_class`.
        """
        g_gan = gan_loss(fooled_logits, True, self.gan_mode)
        g_l1 = l1_loss(ab_fake, ab_real)
        if class_logits is not None:
            g_class = ab_classes.class_loss(class_logits, ab_real, self.ab_weights)
            g_loss = gan_weight * g_gan + self.lambda_l1 * g_l1 + self.lambda_class * g_class
            return g_loss, {"g_gan": g_gan, "g_l1": g_l1, "g_class": g_class}
        colour_loss = g_l1 if self.ab_weights is None else rebalance.weighted_l1_loss(ab_fake, ab_real, self.ab_weights)
        return gan_weight * g_gan + self.lambda_l1 * colour_loss, {"g_gan": g_gan, "g_l1": g_l1}

    def record(self, values):
        """Update the training trackers with the step's losses; return the logs."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def score_batch(self, batch):
        """Validation: L1 of ab and PSNR of RGB against the real photo; return the logs."""
        l_norm, ab_real = self.to_lab(batch)
        ab_fake = ops.cast(self.generator(l_norm, training=False), "float32")
        rgb_real = color.network_to_rgb(l_norm, ab_real)
        rgb_fake = color.network_to_rgb(l_norm, ab_fake)
        self.val_trackers["l1"].update_state(ops.mean(ops.abs(ab_fake - ab_real), axis=(1, 2, 3)))
        self.val_trackers["psnr"].update_state(psnr(rgb_real, rgb_fake, max_value=1.0))
        return {name: tracker.result() for name, tracker in self.val_trackers.items()}
