"""Export a trained generator for serving and for phones: `python -m keras_colorizer.export`.

Installed as `keras_colorizer.export` (the repository keeps it in its
top-level `export/` folder). `saved_model` writes the SavedModel for
TensorFlow Serving, `tflite` the LiteRT files, `report` scores both,
`cli` is the command line.
"""
