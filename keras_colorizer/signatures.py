"""Names of the exported models' signatures and tensors: what the export writes and `Colorizer` reads.

SavedModel (TensorFlow Serving): `serving_default` (uint8 images of any
size -> uint8 RGB), `colorize_bytes` (encoded images -> PNG) and
`predict_ab`. TFLite (phones): `colorize` (gray uint8 -> RGB uint8) and
`predict_ab`. `predict_ab` takes network-range L (L / 50 - 1) at the
model's size and returns ab / 110, in both.
"""

PREDICT_AB = "predict_ab"
PREDICT_AB_INPUT = "l"
PREDICT_AB_OUTPUT = "ab"

SERVING_DEFAULT = "serving_default"
SERVING_INPUT = "images"
SERVING_OUTPUT = "colorized"

COLORIZE_BYTES = "colorize_bytes"
BYTES_INPUT = "image_bytes"
BYTES_OUTPUT = "colorized_bytes"

MOBILE_COLORIZE = "colorize"
MOBILE_INPUT = "gray"
MOBILE_OUTPUT = "rgb"
