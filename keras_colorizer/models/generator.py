"""What every generator family shares: the contract the rest of the package relies on."""

import keras


class Generator(keras.Model):
    """Base class of the generator families: L (N, H, W, 1) in [-1, 1] -> ab (N, H, W, 2) in [-1, 1].

    A family is a functional `keras.Model` subclass that builds its graph in
    `__init__`, is registered with `keras.saving.register_keras_serializable`
    and returns its constructor arguments from `get_config`, so a `.keras`
    file rebuilds it with `keras.saving.load_model`. Training, `Colorizer`
    and the export ask the model for what they need:

    - `image_size`: the side it was trained at; photos are resized to it;
    - `size_multiple`: input height and width must be multiples of it;
    - `default_image_size_for(config)`: the side training crops have
      unless `--image-size` says otherwise;
    - `float_stem_layers`: layers whose outputs an int8 export keeps in
      float (the input stem, where 8 bits lose the most).

    Args:
        inputs, outputs: the functional graph.
        image_size: the training side, or None.
    """

    float_stem_layers = ()

    def __init__(self, inputs, outputs, image_size=None, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        if image_size is not None and (int(image_size) != image_size or image_size < 1):
            raise ValueError(f"image_size must be a positive integer or None. Received: image_size={image_size!r}")
        self.image_size = None if image_size is None else int(image_size)

    @classmethod
    def size_multiple_for(cls, config):
        """What the input side must be a multiple of, for a family's config (no model is built)."""
        raise NotImplementedError

    @classmethod
    def default_image_size_for(cls, config):
        """The training side a family trains at unless told otherwise: 128 where it suits the family."""
        multiple = cls.size_multiple_for(config)
        return 128 if 128 % multiple == 0 else multiple * -(-128 // multiple)

    @property
    def size_multiple(self):
        return self.size_multiple_for(self.get_config())

    @classmethod
    def check_size_for(cls, config, size, label):
        """Raise a ValueError naming `label` unless `size` suits this family with `config` (no model is built)."""
        multiple = cls.size_multiple_for(config)
        if int(size) <= 0 or int(size) % multiple:
            raise ValueError(
                f"Image size {size} does not suit {label}: it must be a positive multiple of {multiple}. "
                f"Received: image_size={size}"
            )

    def check_size(self, size):
        """Raise a ValueError unless `size` suits this generator."""
        self.check_size_for(self.get_config(), size, f"{self.name} ({type(self).__name__})")

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "image_size": self.image_size}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
