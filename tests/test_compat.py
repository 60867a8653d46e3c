"""Every private Keras / TensorFlow / LiteRT API in keras_colorizer.compat, exercised: an upgrade that breaks one fails here."""

import inspect

import keras
import numpy as np
import tensorflow as tf

from keras_colorizer import compat


def test_adam_slots_are_the_moments_keras_updates():
    variable = keras.Variable(np.ones((3,), "float32"))
    adam = keras.optimizers.Adam(0.1)
    adam.build([variable])
    adam.apply_gradients([(np.array([1.0, -2.0, 0.0], "float32"), variable)])
    m, v = compat.adam_slots(adam, variable)
    np.testing.assert_allclose(m.numpy(), 0.1 * np.array([1.0, -2.0, 0.0]), rtol=1e-6)  # (1 - beta_1) g
    np.testing.assert_allclose(v.numpy(), 0.001 * np.array([1.0, 4.0, 0.0]), rtol=1e-5)  # (1 - beta_2) g^2


def test_keras_still_calls_the_symbolic_build_hook_pix2pix_overrides():
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    from keras_colorizer.gan.pix2pix import Pix2Pix

    assert hasattr(TensorFlowTrainer, compat.KERAS_SYMBOLIC_BUILD_HOOK)
    assert compat.KERAS_SYMBOLIC_BUILD_HOOK in inspect.getsource(TensorFlowTrainer.fit)
    assert compat.KERAS_SYMBOLIC_BUILD_HOOK in vars(Pix2Pix)


def test_frozen_function_holds_no_variables():
    variable = tf.Variable(3.0)
    function = tf.function(lambda x: x * variable)
    frozen = compat.freeze_concrete_function(function.get_concrete_function(tf.TensorSpec([2], tf.float32)))
    assert not frozen.variables
    np.testing.assert_allclose(frozen(tf.constant([1.0, 2.0]))[0].numpy(), [3.0, 6.0])


def _calibrated_dense(tmp_path):
    module = tf.Module()
    module.w = tf.constant(np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4))
    module.f = tf.function(lambda x: {"y": tf.nn.relu(tf.matmul(x, module.w))},
                           input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.f})
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([np.random.default_rng(i).uniform(-1, 1, (1, 4)).astype("float32")] for i in range(8))
    return compat.calibrate_only(converter).convert()


def test_calibrate_then_quantize_gives_an_int8_model_litert_runs(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    quantized = compat.quantize_calibrated(_calibrated_dense(tmp_path), "int8", [])
    path = tmp_path / "q.tflite"
    path.write_bytes(quantized)
    interpreter = Interpreter(model_path=str(path))
    names = compat.litert_op_names(interpreter)
    assert "FULLY_CONNECTED" in names and "QUANTIZE" in names
    flatbuffer_utils, schema = compat.tflite_flatbuffers()
    model = flatbuffer_utils.read_model(str(path))
    assert isinstance(model, schema.ModelT) and model.subgraphs
