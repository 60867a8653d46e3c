"""Export a trained generator for serving and for phones: `keras-colorizer export`, or `export_model` in Python.

Installed as `keras_colorizer.export` (the repository keeps it in its
top-level `export/` folder). `folder` writes the whole export crash-safe,
`saved_model` the SavedModel for TensorFlow Serving, `tflite` the LiteRT
files, `report` scores both; `graphs` holds the graphs they share.
"""

from keras_colorizer.export.folder import FORMATS, export_model  # noqa: F401
