"""A U-Net decoder on an ImageNet-pretrained encoder: colour from a network that knows what things are."""

import keras

from keras_colorizer.models import ab_classes
from keras_colorizer.models.generator import Generator
from keras_colorizer.models.layers import NORMS, LayerSeeds, LightnessToRGB, check_choice, check_int, norm_layer, uses_bias

DECODER_STRIDES = (16, 8, 4, 2)
AB_HEADS = ("tanh", "classes")


def _he_init(seed):
    return keras.initializers.HeNormal(seed=seed)


@keras.saving.register_keras_serializable(package="keras_colorizer")
class EncoderUNetGenerator(Generator):
    """An ImageNet encoder (`backbone`), its features at strides 2 to 32 feeding a slim U-Net decoder.

    The gray L is turned into the encoder's RGB input inside the model
    (`LightnessToRGB`), so the SavedModel and TFLite files include it. The
    decoder starts from the stride-32 features (a 1x1 convolution to
    `decoder_filters[0]`), and at strides 16, 8, 4 and 2 upsamples by 2
    (bilinear), joins the encoder's features at that stride and applies a
    3x3 convolution, norm and ReLU. With `global_context` the stride-32
    convolution also adds, at every position, one vector of the whole photo:
    the encoder's classifier features (1280, pretrained) averaged over the
    photo and projected by a 1x1 convolution, so that what the photo shows
    reaches every part of it (Iizuka et al. 2016's global features). A 3x3
    convolution gives ab at stride 2,
    upsampled (bilinear) to the input size and squashed by tanh: colour is
    smooth, and the photo's own full-resolution L carries the detail.

    With `ab_head="classes"` the last convolution gives instead logits over
    the quantized ab bins (`ab_classes`, Zhang et al. 2016; the layer
    `ab_logits`, which training reads for its classification loss) and ab is
    their annealed mean (`ab_classes.AnnealedMean`), upsampled the same way.

    The encoder's batch norm always runs in inference mode with its ImageNet
    statistics (frozen): batches of a few crops would only corrupt them, and
    replicas of a strategy then need no synchronization there.

    Args:
        backbone: an encoder of `models.backbones` (`"efficientnet_lite0"`).
        weights: the encoder's starting weights: `"imagenet"`, None (random)
            or the path of a weights file of the encoder alone. Loading a
            saved generator rebuilds it without them (its own are loaded).
        decoder_filters: filters of the decoder at strides 16, 8, 4 and 2.
        norm: the decoder's normalization, `"batch"` or `"instance"`.
        ab_head: `"tanh"` (ab regressed) or `"classes"` (a distribution over
            ab bins, shown as its annealed mean).
        global_context: add the photo's pooled classifier features at stride
            32 (False: the decoder sees the stride-32 map alone).
        temperature: the annealed mean's temperature (`"classes"` only).
        encoder_trainable: False makes the encoder's layers non-trainable
            (`--encoder-lr-scale 0`, the default of training): no gradient
            is computed for them. Saved with the model, and settable later
            (`generator.encoder_trainable = True` to fine-tune it).
        image_size: the side it trains at (photos are resized to it).
        seed: seed of the decoder's initial weights.
        synchronized_norm: the decoder's batch norm over the global batch
            under a `tf.distribute` strategy (a training setting, not saved).

    Example:
    >>> generator = EncoderUNetGenerator("efficientnet_lite0", image_size=128)
    >>> generator(np.zeros((1, 128, 128, 1))).shape
    (1, 128, 128, 2)
    """

    def __init__(
        self,
        backbone="efficientnet_lite0",
        weights="imagenet",
        decoder_filters=(96, 64, 48, 32),
        norm="batch",
        ab_head="tanh",
        temperature=ab_classes.TEMPERATURE,
        encoder_trainable=True,
        global_context=False,
        image_size=None,
        seed=None,
        synchronized_norm=False,
        name="generator",
        **kwargs,
    ):
        from keras_colorizer.models.backbones import get_backbone, pretrained_layer_weights

        spec = get_backbone(backbone)
        check_choice("norm", norm, NORMS)
        check_choice("ab_head", ab_head, AB_HEADS)
        decoder_filters = tuple(check_int("decoder_filters", f, 1) for f in decoder_filters)
        if len(decoder_filters) != len(DECODER_STRIDES):
            raise ValueError(
                f"decoder_filters needs one width per decoder stride {DECODER_STRIDES}. Received: decoder_filters={decoder_filters}"
            )
        seeds = LayerSeeds(seed)
        bias = uses_bias(norm)

        def conv(x, filters, kernel, name):
            return keras.layers.Conv2D(filters, kernel, padding="same", use_bias=bias,
                                       kernel_initializer=_he_init(seeds.next()), name=name)(x)

        def conv_norm_relu(x, filters, kernel, name):
            x = conv(x, filters, kernel, f"{name}_conv")
            x = norm_layer(norm, f"{name}_norm", synchronized=synchronized_norm, seed=seeds.next())(x)
            return keras.layers.ReLU(name=f"{name}_relu")(x)

        inputs = keras.Input(shape=(None, None, 1), name="l")
        rgb = LightnessToRGB(spec.scale, spec.offset, name="to_rgb")(inputs)
        encoder = spec.build(rgb, head=bool(global_context))
        features = {stride: encoder.get_layer(layer).output for stride, layer in spec.taps.items()}

        x = conv(features[32], decoder_filters[0], 1, "dec32_conv")
        if global_context:
            photo = keras.layers.GlobalAveragePooling2D(keepdims=True, name="context_pool")(encoder.get_layer(spec.head).output)
            photo = conv(photo, decoder_filters[0], 1, "context_conv")
            x = keras.layers.Add(name="dec32_context")([x, photo])  # (1, 1) broadcast over the map
        x = norm_layer(norm, "dec32_norm", synchronized=synchronized_norm, seed=seeds.next())(x)
        x = keras.layers.ReLU(name="dec32_relu")(x)
        for stride, filters in zip(DECODER_STRIDES, decoder_filters):
            x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{stride}_up")(x)
            if stride in features:
                x = keras.layers.Concatenate(name=f"dec{stride}_skip")([x, features[stride]])
            x = conv_norm_relu(x, filters, 3, f"dec{stride}")
        # Small initial weights: ab starts near 0 (gray). With He's initialisation the tanh began saturated
        # (loud colours, vanishing gradients) and L1 fell several times slower (docs/quality.md).
        ab_init = keras.initializers.RandomNormal(0.0, 1e-3, seed=seeds.next())
        if ab_head == "classes":
            # Near-zero logits: every bin alike, whose (annealed) mean is gray.
            x = keras.layers.Conv2D(ab_classes.CLASSES, 3, padding="same", kernel_initializer=ab_init,
                                    dtype="float32", name="ab_logits")(x)
            x = ab_classes.AnnealedMean(temperature, name="dec_ab_mean")(x)
            ab = keras.layers.UpSampling2D(2, interpolation="bilinear", name="ab", dtype="float32")(x)
        else:
            x = keras.layers.Conv2D(2, 3, padding="same", kernel_initializer=ab_init, name="dec_ab_conv")(x)
            x = keras.layers.UpSampling2D(2, interpolation="bilinear", name="dec_ab_up")(x)
            ab = keras.layers.Activation("tanh", name="ab", dtype="float32")(x)
        super().__init__(inputs, ab, image_size=image_size, name=name, **kwargs)

        self.backbone, self.weights_source, self.decoder_filters, self.norm = backbone, weights, decoder_filters, norm
        self.ab_head, self.temperature = ab_head, float(temperature)
        self.global_context = bool(global_context)
        self.seed = seed
        self.synchronized_norm = bool(synchronized_norm)
        # The encoder's layers this model uses (those past its last tap are left out of the graph).
        used = {layer.name for layer in self.layers} - {"l", "to_rgb"}
        self.encoder_layer_names = tuple(layer.name for layer in encoder.layers if layer.name in used)
        for name_ in self.encoder_layer_names:
            layer = self.get_layer(name_)
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False  # frozen: inference mode, ImageNet statistics
        self.encoder_trainable = encoder_trainable
        if weights is not None:
            _copy_weights(*pretrained_layer_weights(backbone, weights), encoder, set(self.encoder_layer_names))

    @property
    def encoder_trainable(self):
        """Whether the encoder's weights learn (its batch norm never does)."""
        return self._encoder_trainable

    @encoder_trainable.setter
    def encoder_trainable(self, value):
        self._encoder_trainable = bool(value)
        for name in self.encoder_layer_names:
            layer = self.get_layer(name)
            if not isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = self._encoder_trainable

    @property
    def encoder_variables(self):
        """The encoder's variables (fine-tuned at a lower learning rate, or frozen for a warm-up)."""
        return [v for name in self.encoder_layer_names for v in self.get_layer(name).weights]

    @property
    def float_stem_layers(self):
        """Kept float in int8 files: the gray-to-RGB conversion (powers, no int8 kernels) and the encoder's stem."""
        from keras_colorizer.models.backbones import get_backbone

        return ("to_rgb",) + tuple(get_backbone(self.backbone).float_stem_layers)

    @classmethod
    def size_multiple_for(cls, config):
        return 32

    @classmethod
    def default_image_size_for(cls, config):
        # ImageNet's scale: the encoder sees objects at the size it learned them. Against 128-pixel crops, two
        # seeds at 800 steps gave 7-10 points more colourfulness at the same CIEDE2000 (docs/quality.md).
        return 224

    def get_config(self):
        return {
            **super().get_config(),
            "backbone": self.backbone,
            "weights": self.weights_source,
            "decoder_filters": list(self.decoder_filters),
            "norm": self.norm,
            "ab_head": self.ab_head,
            "temperature": self.temperature,
            "encoder_trainable": self.encoder_trainable,
            "global_context": self.global_context,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        # A saved generator brings its own weights: rebuilding it must not fetch ImageNet's again.
        return cls(**{**config, "weights": None})


def _copy_weights(pretrained_name, pretrained_layers, encoder, used):
    """Copy a pretrained encoder's weights into the same encoder built in the generator, layer by layer.

    Both are built by the same code, so their layers with weights come in
    the same order (the pretrained one may have more after them: a
    classifier head, layers past the generator's last tap); names are not
    compared, as Keras numbers unnamed layers per process.
    `pretrained_layers` is `pretrained_layer_weights(...)[1]`.
    """
    copied = 0
    targets = [layer for layer in encoder.layers if layer.weights and layer.name in used]
    for (source_name, values), layer in zip(pretrained_layers, targets):
        if [v.shape for v in values] != [tuple(w.shape) for w in layer.weights]:
            raise ValueError(f"{pretrained_name}: layer {source_name} does not match {layer.name} of the encoder")
        layer.set_weights(values)
        copied += 1
    if not copied:
        raise ValueError(f"No encoder layer found in the pretrained model {pretrained_name}")
