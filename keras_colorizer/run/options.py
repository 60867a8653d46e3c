"""Training options: one dataclass that the CLI fills, every checkpoint stores and `--resume` reads back.

The options name the architecture (`generator`) and carry the settings the
command line offers for it; once the networks are built, their own configs
(`get_config`, saved in every checkpoint's `.keras` files) are what
describes them. Inference and export read the models, never these options.
"""

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from keras_colorizer.atomic import write_json
from keras_colorizer.errors import UserError


PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("none", "mirrored", "multi_worker", "data_parallel")
# Options that say how a run executes, not what it trains: `--resume` may change them.
RUNTIME_OPTIONS = ("epochs", "strategy", "jit_compile", "steps_per_execution", "cache")
# Loss weights and what the discriminator sees, which a run may change when it goes on (`--resume RUN
# --lambda-l1 100`): a later phase of the same networks, optimizers and step. Each checkpoint's state.json
# records the settings it was trained under.
PHASE_OPTIONS = ("lambda_l1", "rebalance", "d_noise", "d_batch")
# Architecture settings: option -> the argument of the generator family's constructor that takes it.
GENERATOR_SETTINGS = {
    "levels": "levels", "ngf": "ngf", "norm": "norm", "dropout": "dropout", "upsample": "upsample",
    "encoder_weights": "weights", "ab_head": "ab_head", "decoder_filters": "decoder_filters",
    "global_context": "global_context",
}
# What --init-from takes from the model it starts from: the generator's architecture and the size it saw.
ARCHITECTURE_OPTIONS = ("generator", "image_size", *GENERATOR_SETTINGS)
# Option names of earlier versions, read from old runs and still accepted on the command line.
RENAMED_OPTIONS = {"preset": "generator"}
# Options removed after they measured no better (docs/quality.md), as runs saved them when off. A run saved
# with one of them on cannot go on as it was trained, and is refused by name.
RETIRED_OPTIONS = {"grain": 0.0, "flicker": 0.0, "freeze_encoder_epochs": 0}


class OptionError(UserError):
    """A training option has a value that cannot work."""


# A run or model name: one path segment of letters, digits, '.', '_' and '-', not starting with '.' (no '..').
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
NAME_MAX = 100
# Upper bounds that keep a value read from a tampered file from reaching TensorFlow as a negative shape.
UPPER_BOUNDS = {"image_size": 8192, "batch_size": 65536, "ngf": 4096, "ndf": 4096, "n_layers": 16, "levels": 16,
                "epochs": 10**6, "steps_per_epoch": 10**8, "samples": 1024, "steps_per_execution": 10**6,
                "pretrain_epochs": 10**6, "decay_epochs": 10**6, "val_max": 10**7}


def check_name(value, flag):
    """`value` if it is a safe name (`NAME`, at most `NAME_MAX` characters), else ValueError naming `flag`."""
    if not isinstance(value, str) or not NAME.match(value) or len(value) > NAME_MAX:
        raise ValueError(
            f"{flag} must be one path segment of letters, digits, '.', '_' or '-' (not starting with '.'), "
            f"at most {NAME_MAX} characters. Received: {value!r}"[:400]
        )
    return value


def _expected_kind(field_type):
    """('int' | 'float' | 'bool' | 'str' | 'paths', may be None) for a field's annotation."""
    optional = field_type in (Optional[int], Optional[float], Optional[bool], Optional[str])
    base = {Optional[int]: int, Optional[float]: float, Optional[bool]: bool, Optional[str]: str}.get(field_type, field_type)
    return {int: "int", float: "float", bool: "bool", str: "str"}[base], optional


def check_types(values):
    """Raise OptionError naming the first field of `values` (read from a file) whose type is not the option's."""
    for field_ in dataclasses.fields(TrainOptions):
        if field_.name not in values:
            continue
        value, (kind, optional) = values[field_.name], _expected_kind(field_.type)
        if value is None and optional:
            continue
        if field_.name == "data" and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            continue  # several sources
        fits = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
        }[kind]
        if not fits:
            expected = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string"}[kind]
            raise OptionError(f"option {field_.name!r} holds {json.dumps(value)[:80]}, expected {expected}"
                              + (" or null" if optional else ""))


@dataclass
class TrainOptions:
    """Everything that defines a training run.

    The defaults are a small run that trains on the built-in photos in a few
    minutes on a 2-core CPU; `FULL_RUN_HINT` shows the paper's configuration.
    """

    data: Optional[str] = field(default=None, metadata={"help": "photo folders or Kaggle layouts (l/, ab/); several are trained on as one; default: the built-in photos"})
    data_weights: Optional[str] = field(default=None, metadata={"help": "each --data source's share of the stream, comma-separated (4,1); default: by photo count"})
    init_from: Optional[str] = field(default=None, metadata={"help": "start the generator from a preset or a run (its architecture and training size)"})
    out: str = field(default="runs", metadata={"help": "folder that holds the runs"})
    name: Optional[str] = field(default=None, metadata={"help": "run name (default: date and time)"})
    epochs: int = field(default=20, metadata={"help": "epochs to train"})
    decay_epochs: Optional[int] = field(default=None, metadata={"help": "last epochs over which the learning rate falls to 0 (default: half of --epochs)"})
    steps_per_epoch: Optional[int] = field(default=40, metadata={"help": "batches per epoch (0: one pass over the training photos)"})
    batch_size: int = field(default=4, metadata={"help": "images per batch (the paper uses 1)"})
    image_size: Optional[int] = field(default=None, metadata={"help": "side of the training crops (default: 224 with an ImageNet encoder, 128 unet_128, 256 unet_256)"})
    generator: str = field(default="efficientnet_lite0_unet", metadata={"help": "efficientnet_lite0_unet (the default: ImageNet encoder), unet_256 or unet_128 (the paper's); docs/models.md"})
    levels: Optional[int] = field(default=None, metadata={"help": "U-Net levels, overriding the depth --generator names (small models)"})
    ngf: int = field(default=32, metadata={"help": "generator filters in the outermost layer (paper: 64)"})
    ndf: int = field(default=32, metadata={"help": "discriminator filters in the first layer (paper: 64)"})
    n_layers: int = field(default=3, metadata={"help": "PatchGAN layers (3: 70x70 patches)"})
    norm: str = field(default="batch", metadata={"help": "normalization: batch or instance"})
    upsample: str = field(default="transpose", metadata={"help": "decoder upsampling: transpose (the paper's 4x4) or resize (nearest + 3x3 conv)"})
    dropout: float = field(default=0.5, metadata={"help": "dropout in the three innermost decoder blocks (0: off)"})
    encoder_weights: str = field(default="imagenet", metadata={"help": "an ImageNet encoder's starting weights: imagenet, none or a weights file"})
    decoder_filters: Optional[str] = field(default=None, metadata={"help": "an encoder U-Net's decoder widths at strides 16, 8, 4, 2 (default: 96,64,48,32)"})
    global_context: Optional[bool] = field(default=None, metadata={"help": "an encoder U-Net's decoder also sees the whole photo's pooled ImageNet classifier features (default: off)"})
    encoder_lr_scale: float = field(default=0.0, metadata={"help": "the ImageNet encoder's learning rate as a share of --lr (default: 0, kept frozen)"})
    gan_mode: str = field(default="lsgan", metadata={"help": "GAN loss: lsgan (the default) or vanilla (the paper's BCE)"})
    lambda_l1: float = field(default=300.0, metadata={"help": "weight of L1 beside the GAN loss (default: 300; the paper's: 100)"})
    d_batch: str = field(default="separate", metadata={"help": "separate: the discriminator judges real and generated pairs in batches of their own; joint: in one batch"})
    d_noise: float = field(default=0.0, metadata={"help": "std of noise added to the ab the discriminator sees (instance noise; 0.1 is 11 CIELAB units; 0: off)"})
    ab_head: str = field(default="tanh", metadata={"help": "colour output: tanh (ab regressed) or classes (ab bins, Zhang et al. 2016)"})
    lambda_class: float = field(default=10.0, metadata={"help": "weight of the ab-bin classification loss (--ab-head classes)"})
    rebalance: float = field(default=0.0, metadata={"help": "weight rare colours up (Zhang et al. 2016), mixed with this uniform share; 0: off"})
    lambda_temporal: float = field(default=0.0, metadata={"help": "for video: weight of an L1 between the colours of an image and of a moved crop; 0: off"})
    pretrain_epochs: int = field(default=0, metadata={"help": "first epochs that train the generator on L1 alone"})
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate of both networks"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta_1"})
    val_split: float = field(default=0.15, metadata={"help": "share of the photos held out for validation"})
    val_max: int = field(default=300, metadata={"help": "the most photos held out and scored after each epoch (0: no limit)"})
    val_data: Optional[str] = field(default=None, metadata={"help": "a photo folder to validate on, instead of holding photos out of --data"})
    seed: int = field(default=0, metadata={"help": "seed of the split, the photo order, crops, flips and weights"})
    jitter: bool = field(default=True, metadata={"help": "pix2pix jitter: resize up by 286/256, random crop, random flip"})
    samples: int = field(default=4, metadata={"help": "validation photos in the sample grid"})
    precision: str = field(default="float32", metadata={"help": "float32, mixed_float16 or mixed_bfloat16"})
    jit_compile: Optional[bool] = field(default=None, metadata={"help": "compile the step with XLA (default: off with TensorFlow, on with JAX)"})
    steps_per_execution: int = field(default=1, metadata={"help": "training steps per call into the compiled step"})
    strategy: str = field(default="none", metadata={"help": "none, mirrored (this machine's GPUs), multi_worker (TF_CONFIG) or data_parallel (JAX)"})
    cache: Optional[bool] = field(default=None, metadata={"help": "hold every training image in memory (default: photo folders that fit in 4 GiB)"})

    def data_paths(self):
        """The `--data` sources as a list (one None: the built-in photos)."""
        return list(self.data) if isinstance(self.data, (list, tuple)) else [self.data]

    def data_weight_values(self):
        """`--data-weights` as floats, one per `--data` source, or None."""
        if self.data_weights is None:
            return None
        try:
            weights = [float(w) for w in str(self.data_weights).split(",")]
        except ValueError:
            weights = []
        if len(weights) != len(self.data_paths()) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(
                f"--data-weights takes one weight >= 0 per --data source ({len(self.data_paths())}), comma-separated, "
                f"not all 0. Received: {self.data_weights!r}"
            )
        return weights

    def generator_settings(self):
        """The architecture settings for `models.build_generator(self.generator, **settings)`."""
        settings = {
            argument: getattr(self, option) for option, argument in GENERATOR_SETTINGS.items()
            if getattr(self, option) is not None
        }
        if settings.get("weights") == "none":
            settings["weights"] = None
        if "decoder_filters" in settings:
            settings["decoder_filters"] = self._decoder_widths()
        return {**settings, "image_size": self.image_size, "seed": self.seed}

    def discriminator_settings(self):
        """Constructor arguments of the `PatchGANDiscriminator`."""
        return {"n_layers": self.n_layers, "ndf": self.ndf, "norm": self.norm, "seed": self.seed + 1}

    @property
    def lr_decay_epochs(self):
        return self.epochs // 2 if self.decay_epochs is None else self.decay_epochs

    def validate(self):
        """These options checked, with the generator's own image size where none was given (`self` is left as it is).

        Raises `OptionError` naming the first option with a value that
        cannot work. A run's options.json holds the size it used.
        """
        from keras_colorizer.models import GENERATORS, default_image_size
        from keras_colorizer.models.architectures import check_not_retired

        try:
            check_not_retired(self.generator, "--generator")
            if self.generator not in GENERATORS:
                raise ValueError(f"--generator must be one of {', '.join(sorted(GENERATORS))}. Received: {self.generator!r}")
            options = self
            if self.image_size is None:
                options = dataclasses.replace(self, image_size=default_image_size(self.generator, **self.generator_settings()))
            return options._check()
        except UserError:
            raise
        except ValueError as error:
            raise OptionError(str(error)) from None

    def _check(self):
        from keras_colorizer.models import GENERATORS, check_image_size

        positive = ("epochs", "batch_size", "image_size", "ngf", "ndf", "n_layers", "samples", "steps_per_execution")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1. Received: {getattr(self, name)}")
        for name, bound in UPPER_BOUNDS.items():
            if getattr(self, name) is not None and getattr(self, name) > bound:
                raise ValueError(f"--{name.replace('_', '-')} must be at most {bound}. Received: {getattr(self, name)}")
        if self.name is not None:
            check_name(self.name, "--name")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 0:
            raise ValueError(f"--steps-per-epoch must be >= 0. Received: {self.steps_per_epoch}")
        if not 0 <= self.lr_decay_epochs <= self.epochs:
            raise ValueError(f"--decay-epochs must be between 0 and --epochs ({self.epochs}). Received: {self.decay_epochs}")
        if self.levels is not None and self.levels < 2:
            raise ValueError(f"--levels must be at least 2. Received: {self.levels}")
        from keras_colorizer.models.architectures import family_arguments
        from keras_colorizer.models.layers import NORMS
        from keras_colorizer.models.unet import UPSAMPLE_MODES

        if self.norm not in NORMS:
            raise ValueError(f"--norm must be one of {', '.join(NORMS)}. Received: {self.norm!r}")
        if self.upsample not in UPSAMPLE_MODES:
            raise ValueError(f"--upsample must be one of {', '.join(UPSAMPLE_MODES)}. Received: {self.upsample!r}")
        check_image_size(self.image_size, self.generator, **self.generator_settings())
        self._check_encoder_weights()
        from keras_colorizer.gan.losses import GAN_MODES

        if self.gan_mode not in GAN_MODES:
            raise ValueError(f"--gan-mode must be one of {', '.join(GAN_MODES)}. Received: {self.gan_mode!r}")
        if not 0 <= self.pretrain_epochs <= self.epochs:
            raise ValueError(f"--pretrain-epochs must be between 0 and --epochs ({self.epochs}). Received: {self.pretrain_epochs}")
        if self.encoder_lr_scale < 0:
            raise ValueError(f"--encoder-lr-scale must be >= 0. Received: {self.encoder_lr_scale}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1). Received: {self.dropout}")
        if self.lambda_l1 < 0 or self.lr <= 0 or not 0 <= self.beta1 < 1:
            raise ValueError(
                f"--lambda-l1 must be >= 0, --lr > 0 and --beta1 in [0, 1). "
                f"Received: lambda_l1={self.lambda_l1}, lr={self.lr}, beta1={self.beta1}"
            )
        from keras_colorizer.models.encoder_unet import AB_HEADS

        if self.ab_head not in AB_HEADS:
            raise ValueError(f"--ab-head must be one of {', '.join(AB_HEADS)}. Received: {self.ab_head!r}")
        if self.ab_head != "tanh" and "ab_head" not in family_arguments(GENERATORS[self.generator][0]):
            raise ValueError(f"--ab-head {self.ab_head} needs a pretrained encoder's generator; {self.generator} regresses ab")
        if self.decoder_filters is not None and "decoder_filters" not in family_arguments(GENERATORS[self.generator][0]):
            raise ValueError(f"--decoder-filters sets a pretrained encoder's decoder; {self.generator} has none")
        if self.global_context is not None and "global_context" not in family_arguments(GENERATORS[self.generator][0]):
            raise ValueError(f"--global-context needs a pretrained encoder's generator; {self.generator} has no classifier features")
        from keras_colorizer.gan.pix2pix import D_BATCHES

        if self.d_batch not in D_BATCHES:
            raise ValueError(f"--d-batch must be one of {', '.join(D_BATCHES)}. Received: {self.d_batch!r}")
        if not 0 <= self.d_noise <= 1:
            raise ValueError(f"--d-noise must be in [0, 1] (0: off). Received: {self.d_noise}")
        if self.lambda_class < 0:
            raise ValueError(f"--lambda-class must be >= 0. Received: {self.lambda_class}")
        if not (self.rebalance == 0 or 0 < self.rebalance <= 1):
            raise ValueError(f"--rebalance must be 0 (off) or in (0, 1]. Received: {self.rebalance}")
        if self.lambda_temporal < 0:
            raise ValueError(f"--lambda-temporal must be >= 0. Received: {self.lambda_temporal}")
        if self.lambda_temporal and self.image_size < 2 * self.temporal_shift():
            raise ValueError(
                f"--lambda-temporal crops {self.temporal_shift()} pixels off {self.generator}'s {self.image_size}-pixel "
                f"images, so it needs --image-size of at least {2 * self.temporal_shift()}. Received: {self.image_size}"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}. Received: {self.precision!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}. Received: {self.strategy!r}")
        if not 0 <= self.val_split < 1:
            raise ValueError(f"--val-split must be in [0, 1). Received: {self.val_split}")
        if self.val_max < 0:
            raise ValueError(f"--val-max must be >= 0 (0: no limit). Received: {self.val_max}")
        self.data_weight_values()
        return self

    def temporal_shift(self):
        """How much smaller the consistency crop of `--lambda-temporal` is: the generator's size multiple."""
        from keras_colorizer.models import size_multiple

        return size_multiple(self.generator, **self.generator_settings())

    def _decoder_widths(self):
        from keras_colorizer.models.encoder_unet import DECODER_STRIDES

        try:
            widths = tuple(int(width) for width in self.decoder_filters.split(","))
        except ValueError:
            widths = ()
        if len(widths) != len(DECODER_STRIDES) or min(widths) < 1:
            raise ValueError(
                f"--decoder-filters takes {len(DECODER_STRIDES)} comma-separated widths of at least 1 "
                f"(strides {', '.join(map(str, DECODER_STRIDES))}). Received: {self.decoder_filters!r}"
            )
        return widths

    def _check_encoder_weights(self):
        from keras_colorizer.models.architectures import GENERATORS, family_arguments

        family, fixed = GENERATORS[self.generator]
        if "weights" not in family_arguments(family) or self.encoder_weights in ("imagenet", "none"):
            return
        if not os.path.isfile(self.encoder_weights):
            raise ValueError(
                f"{self.encoder_weights}: no such weights file for the {fixed['backbone']} encoder "
                "(--encoder-weights takes imagenet, none or a weights file)"
            )

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        values = {RENAMED_OPTIONS.get(k, k): v for k, v in values.items()}
        for name, off in RETIRED_OPTIONS.items():
            if values.get(name, off) != off:
                raise OptionError(f"{name}={values[name]!r}: --{name.replace('_', '-')} was removed (it measured no "
                                  "better); this version cannot continue or copy a run trained with it")
            values.pop(name, None)
        # Runs written before --val-max held out all of --val-split: they resume with the same split.
        values.setdefault("val_max", 0)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise OptionError(f"Unknown training options {sorted(unknown)}. Expected some of: {sorted(known)}")
        check_types(values)
        return cls(**values)

    def save(self, path):
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path):
        """The options a run saved in `path`, checked: OptionError names the file and the first bad field."""
        try:
            with open(path) as f:
                values = json.load(f)
            if not isinstance(values, dict):
                raise OptionError("expected a JSON object of training options")
            return cls.from_dict(values).validate()
        except (OSError, ValueError) as error:
            raise OptionError(f"{path}: {error}") from None


# A full run of the default recipe: every training photo once an epoch, the paper's 200 epochs.
DEFAULT_FULL_RUN_HINT = "python train.py --data PHOTOS_OR_KAGGLE_DIR --epochs 200 --steps-per-epoch 0"
# The paper's setup.
FULL_RUN_HINT = (
    "python train.py --data PHOTOS_OR_KAGGLE_DIR --generator unet_256 --image-size 256 "
    "--ngf 64 --ndf 64 --lambda-l1 100 --batch-size 1 --epochs 200 --steps-per-epoch 0"
)
