"""Every private Keras, TensorFlow and LiteRT API this package uses, in one place.

Each has no public equivalent that does the job (the README's development
notes say why, one line each). `tests/test_compat.py` exercises every one,
so an upgrade that moves or changes them fails there, loudly, and not deep
in a training run or an export. Nothing here imports TensorFlow at import
time: the JAX backend runs without it.

Kept on purpose elsewhere, because they are hooks Keras calls by name:
`Pix2Pix._maybe_symbolic_build` (overridden so `fit` under a strategy does
not all-reduce a uint8 batch just to trace the model) and `OptimizerPair`
(duck-types `model.optimizer` for Keras' JAX trainer, which carries
`model.optimizer.variables` through the step). The tests check both are
still called.
"""

# --- Keras

KERAS_SYMBOLIC_BUILD_HOOK = "_maybe_symbolic_build"


def variable_index(optimizer, variable):
    """The position of `variable` among those the optimizer was built for.

    Inside `update_step` the TensorFlow backend passes TensorFlow variables
    (no Keras path); Keras' own key works for either kind.
    """
    return optimizer._get_variable_index(variable)  # noqa: SLF001


def adam_slots(optimizer, variable):
    """(first moment, second moment) variables a `keras.optimizers.Adam` keeps for `variable`.

    Keras 3 has no public accessor; the fused TensorFlow kernel needs both.
    """
    index = variable_index(optimizer, variable)
    return optimizer._momentums[index], optimizer._velocities[index]  # noqa: SLF001


# --- TensorFlow


def freeze_concrete_function(concrete_function):
    """A concrete function whose variables are graph constants (TensorFlow has only the v1 API publicly)."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    return convert_variables_to_constants_v2(concrete_function)


# --- TFLite converter (the path TensorFlow's own QuantizationDebugger takes)


def calibrate_only(converter):
    """Make `converter.convert()` return a calibrated float model instead of a quantized one."""
    converter._experimental_calibrate_only = True  # noqa: SLF001
    return converter


def quantize_calibrated(calibrated, variant, denylisted_nodes):
    """Quantize a calibrated TFLite model to `variant` ("int8"), leaving `denylisted_nodes` in float."""
    from tensorflow.compiler.mlir.lite import types_pb2
    from tensorflow.lite.python import convert

    types = {"int8": types_pb2.QUANTIZED_INT8}
    return convert.mlir_quantize(calibrated, inference_type=types[variant], denylisted_nodes=list(denylisted_nodes))


def tflite_flatbuffers():
    """TensorFlow's reader/writer of TFLite flatbuffers (`flatbuffer_utils`) and the schema's classes."""
    from tensorflow.lite.python import schema_py_generated
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils, schema_py_generated


# --- LiteRT


def litert_op_names(interpreter):
    """The names of the ops in a loaded LiteRT interpreter's model."""
    return {detail["op_name"] for detail in interpreter._get_ops_details()}  # noqa: SLF001
