"""The SavedModel for TensorFlow Serving: `DIR/serving/<model_name>/<version>/`."""

import os

import tensorflow as tf

from keras_colorizer.export.graphs import ServingModule


def write_saved_model(generator, image_size, folder, detail_size=None, saturation=1.0):
    """Save the serving signatures of `generator` into `folder` (which must not exist).

    The generator's weights are frozen into the graph as constants, stored
    once (Keras' `model.export` stores them twice, keras-team/keras issue
    23553), so the folder is about the size of the float32 weights.
    """
    module = ServingModule(generator, image_size, detail_size=detail_size, saturation=saturation)
    # Without the gradients of custom-gradient ops (swish in EfficientNetV2): inference needs none,
    # and saving them fails ("invalid capture ... when saving custom gradients").
    options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
    tf.saved_model.save(module, folder, signatures=module.signatures(), options=options)
    return folder


def serving_path(out_dir, model_name, version):
    return os.path.join(out_dir, "serving", model_name, str(int(version)))
