"""keras-colorizer: photo colorization with a pix2pix conditional GAN in Keras 3.

Modules: `color` (sRGB <-> CIELAB), `data` (sources and the tf.data
pipeline), `models` (U-Net generator, PatchGAN discriminator), `pix2pix`
(the training model), `training` (a run from options), `inference`
(`Colorizer`). Importing the package itself loads nothing heavy, so the
command lines start fast.
"""

__version__ = "0.1.0"
