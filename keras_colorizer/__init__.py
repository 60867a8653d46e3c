"""keras-colorizer: photo colorization with a pix2pix conditional GAN in Keras 3.

The flow, one package each: `data` (sources and the tf.data pipeline) ->
`models` (generator families and the PatchGAN discriminator, registered
Keras classes) -> `gan` (`Pix2Pix`, its steps and losses) -> `run` (a
training run from options) -> `inference` (`Colorizer`; `presets`: the
ready-made colorizers, `list_presets()`) -> `export` (SavedModel and
TFLite) -> `video` -> `demo` -> `cli`.

Importing the package registers its Keras classes, so
`keras.saving.load_model("generator.keras")` works after `import
keras_colorizer` alone. It sets no environment variable of its own
(TensorFlow's import sets `TF_CPP_MIN_LOG_LEVEL=1` where it is unset).
"""

from keras_colorizer import models  # noqa: F401 - registers the model classes with Keras
from keras_colorizer.gan import pix2pix  # noqa: F401 - registers Pix2Pix
from keras_colorizer.inference import Colorizer
from keras_colorizer.presets import list_presets

__version__ = "0.1.0"

__all__ = ["Colorizer", "__version__", "list_presets"]
