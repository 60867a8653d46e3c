"""keras-colorizer: photo colorization with a pix2pix conditional GAN in Keras 3.

Modules: `color` (sRGB <-> CIELAB), `data` (sources and the tf.data
pipeline), `models` (generator families and the PatchGAN discriminator,
registered Keras classes), `pix2pix` (the training model), `training` (a run
from options), `inference` (`Colorizer`), `presets` (the ready-made
colorizers, `list_presets()`), `export` (SavedModel and TFLite).

Importing the package registers its Keras classes, so
`keras.saving.load_model("generator.keras")` works after `import
keras_colorizer` alone. It changes no environment variable: the command
lines hide TensorFlow's C++ info logs (`TF_CPP_MIN_LOG_LEVEL=2`); a program
that wants the same sets it before it imports TensorFlow.
"""

from keras_colorizer import models  # noqa: F401 - registers the model classes with Keras
from keras_colorizer.gan import pix2pix  # noqa: F401 - registers Pix2Pix
from keras_colorizer.inference import Colorizer
from keras_colorizer.presets import list_presets

__version__ = "0.1.0"

__all__ = ["Colorizer", "__version__", "list_presets"]
