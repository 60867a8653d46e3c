"""TFLite (LiteRT) files for phones, one per variant, builtin ops only.

Each file has two signatures at a static batch-1 size S: `colorize` (gray
uint8 (1, S, S, 1) -> rgb uint8 (1, S, S, 3), Lab conversion inside) and
`predict_ab` (network-range L -> ab). The generator's weights are frozen into
constants first: converting the module directly kept them as resource
variables (READ_VARIABLE ops and a file without weights).
"""

import json
import os
import tempfile

import numpy as np
import tensorflow as tf

from keras_colorizer import signatures as names
from keras_colorizer.compat import calibrate_only, litert_op_names, quantize_calibrated, tflite_flatbuffers
from keras_colorizer.export.graphs import MobileModule, freeze, gray_to_network_l

VARIANTS = ("float32", "float16", "dynamic", "int8", "int8_web", "int16x8")
# int16x8 (int16 activations, int8 weights) is written on request only: LiteRT
# runs it on reference kernels (XNNPACK has none for 16x8), 25-60x slower than
# float32 on a CPU (12 s for unet_256 at 256x256); it is for accelerators that
# run 16x8, and for comparing int8 against a finer quantization.
# int8_web (on request) is int8 throughout, the input stem too, for a page that must give Python's
# output to the bit: the int8 file keeps that stem in float for accuracy, float arithmetic runs in another
# order in WebAssembly than in x86 XNNPACK, and the quantizer rounds some last-bit differences to another
# 8-bit step (the in-browser page's colours then part from Python's by up to 7 levels on some photos).
# With integer kernels only, LiteRT.js gives Python's output to the bit (tests/test_demo.py), at a cost:
# on the ready-made model 34.0 dB agreement with Keras against 51.1, 16.9 dB PSNR to the true colour
# against 17.8 (docs/demo.md).
DEFAULT_VARIANTS = ("float32", "float16", "dynamic", "int8")
QUANTIZED = ("int8", "int8_web")
SIGNATURES = (names.MOBILE_COLORIZE, names.PREDICT_AB)


def _frozen_module(generator, size, network_size=None, detail_size=None, saturation=1.0):
    """A module whose two signatures hold the generator's weights as constants."""
    mobile = MobileModule(generator, size, network_size, detail_size, saturation)
    frozen_colorize = freeze(mobile.colorize)
    frozen_ab = freeze(mobile.predict_ab)
    module = tf.Module()

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 1], tf.uint8, name=names.MOBILE_INPUT)])
    def colorize(gray):
        return {names.MOBILE_OUTPUT: frozen_colorize(gray)[0]}

    network_size = mobile.network_size

    @tf.function(input_signature=[tf.TensorSpec([1, network_size, network_size, 1], tf.float32, name=names.PREDICT_AB_INPUT)])
    def predict_ab(l):
        return {names.PREDICT_AB_OUTPUT: frozen_ab(l)[0]}

    module.colorize, module.predict_ab = colorize, predict_ab
    module.network_size = network_size
    return module


def _converter(saved_model_dir, variant, calibration_gray, network_size):
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=list(SIGNATURES))
    # Builtin ops only: conversion fails loudly rather than adding Flex ops.
    builtins = tf.lite.OpsSet.TFLITE_BUILTINS
    converter.target_spec.supported_ops = [builtins]
    if variant == "float32":
        return converter
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
        return converter
    if variant == "dynamic":
        return converter

    converter.representative_dataset = lambda: _calibration_samples(calibration_gray, SIGNATURES, network_size)
    if variant not in QUANTIZED:
        raise ValueError(f"Unknown TFLite variant. Expected one of: {', '.join(VARIANTS)}. Received: {variant!r}")
    # Calibrate only; `quantize_network` then quantizes the generator's ops.
    return calibrate_only(converter)


def _calibration_samples(calibration_gray, signatures, network_size):
    """(signature, inputs) pairs for the converter's calibration: each gray crop to each signature."""
    for gray in calibration_gray:
        gray = gray[None, ..., None]
        if names.MOBILE_COLORIZE in signatures:
            yield names.MOBILE_COLORIZE, {names.MOBILE_INPUT: gray}
        if names.PREDICT_AB in signatures:
            yield names.PREDICT_AB, {names.PREDICT_AB_INPUT: gray_to_network_l(gray, network_size)}


def convert_16x8(saved_model_dir, calibration_gray, network_size):
    """int16 activations and int8 weights, each signature converted on its own and then joined.

    TensorFlow sends 16x8 through its older quantizer, which quantizes every
    op that has a 16-bit kernel, the colour conversion included; 16 bits
    hold those values well (47.8 dB agreement with float32 on a trained
    model), and the ops without one (POW, DIV, ROUND) stay float. Given both
    signatures at once, though, the same quantizer left `predict_ab` 11 ab
    units RMS off the Keras model (0.15 converted alone) and `colorize` at
    24 dB: so each is converted alone and the two are joined into one file
    (`join_signatures`). TensorFlow's MLIR quantizer, used for int8, gives
    int16 tensors zero point -1, which LiteRT's kernels refuse.
    """
    blobs = []
    for signature in SIGNATURES:
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[signature])
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,  # float for the ops without a 16x8 kernel; never Flex
        ]
        converter.representative_dataset = lambda s=signature: _calibration_samples(calibration_gray, (s,), network_size)
        blobs.append(converter.convert())
    return join_signatures(blobs)


def join_signatures(blobs):
    """One TFLite file holding the signatures of several single-signature files.

    Each file's subgraph, tensors and buffers are appended to the first
    file's; buffers with the same bytes (the weights every signature shares)
    are stored once; op codes are merged.
    """
    flatbuffer_utils, _ = tflite_flatbuffers()
    models = [flatbuffer_utils.convert_bytearray_to_object(bytearray(blob)) for blob in blobs]
    joined = models[0]
    stored = {}
    for index, buffer in enumerate(joined.buffers):
        if buffer.data is not None and len(buffer.data):
            stored.setdefault(bytes(buffer.data), index)
    codes = [(c.builtinCode, c.deprecatedBuiltinCode, c.customCode, c.version) for c in joined.operatorCodes]
    for model in models[1:]:
        buffer_index = {}
        for index, buffer in enumerate(model.buffers):
            data = bytes(buffer.data) if buffer.data is not None and len(buffer.data) else None
            if data is None:
                buffer_index[index] = 0  # buffer 0 is the empty one
            elif data in stored:
                buffer_index[index] = stored[data]
            else:
                joined.buffers.append(buffer)
                buffer_index[index] = stored[data] = len(joined.buffers) - 1
        code_index = {}
        for index, code in enumerate(model.operatorCodes):
            key = (code.builtinCode, code.deprecatedBuiltinCode, code.customCode, code.version)
            if key not in codes:
                codes.append(key)
                joined.operatorCodes.append(code)
            code_index[index] = codes.index(key)
        for signature in model.signatureDefs:
            subgraph = model.subgraphs[signature.subgraphIndex]
            for tensor in subgraph.tensors:
                tensor.buffer = buffer_index[tensor.buffer]
            for operator in subgraph.operators:
                operator.opcodeIndex = code_index[operator.opcodeIndex]
            joined.subgraphs.append(subgraph)
            signature.subgraphIndex = len(joined.subgraphs) - 1
            joined.signatureDefs.append(signature)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(joined))


def quantize_network(calibrated, variant, network_name, float_layers=()):
    """Quantize the generator's ops of a calibrated model; keep the colour conversion and `float_layers` float.

    Every tensor outside the generator (`network_name`) is denylisted and
    loses its calibrated range: the Lab <-> RGB ops around the network lose
    most of their precision in 8 bits, and a kept range would put a
    quantize-dequantize pair on the gray image's L, which feeds both the
    network and the colour ops. `float_layers` are the generator's own
    `float_stem_layers`: the layers where 8 bits cost the most accuracy
    (docs/benchmarks.md measures why for the U-Net's first layer, and for
    the encoder family's gray-to-RGB conversion). Their tensors are
    denylisted; those read only by other float ops also lose their range,
    for the same reason as the colour ops (the quantizer otherwise rounds
    them to 8 bits between two float ops).
    """
    flatbuffer_utils, _ = tflite_flatbuffers()
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    float_nodes = []
    for subgraph in model.subgraphs:
        def is_float(index):
            name = subgraph.tensors[index].name.decode()
            inside = f"{network_name}/" in name or name.startswith(network_name)
            return not inside or any(f"/{layer}" in name for layer in float_layers)

        consumers = {}
        for operator in subgraph.operators:
            for index in operator.inputs if operator.inputs is not None else []:
                if index >= 0:
                    consumers.setdefault(index, []).append(operator)
        for index, tensor in enumerate(subgraph.tensors):
            if not is_float(index):
                continue
            float_nodes.append(tensor.name.decode())
            readers = consumers.get(index, [])
            if all(is_float(out) for op in readers for out in (op.outputs if op.outputs is not None else [])):
                tensor.quantization = None  # no calibrated range: no quantize-dequantize pair on it
    stripped = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    return quantize_calibrated(stripped, variant, sorted(set(filter(None, float_nodes))))


METADATA_NAME = "keras_colorizer"


def embed_metadata(blob, values):
    """The TFLite file `blob` with `values` as its JSON metadata entry named `METADATA_NAME` (replacing one it has)."""
    flatbuffer_utils, schema = tflite_flatbuffers()
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(blob))
    data = np.frombuffer(json.dumps(values, sort_keys=True).encode(), dtype=np.uint8)
    for entry in model.metadata or []:
        if entry.name.decode() == METADATA_NAME:
            model.buffers[entry.buffer].data = data
            break
    else:
        buffer = schema.BufferT()
        buffer.data = data
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = METADATA_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata = (model.metadata or []) + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def read_metadata(path):
    """The JSON metadata `embed_metadata` wrote into a TFLite file, or None."""
    flatbuffer_utils, _ = tflite_flatbuffers()
    model = flatbuffer_utils.read_model(path)
    for entry in model.metadata or []:
        if entry.name.decode() == METADATA_NAME:
            return json.loads(bytes(model.buffers[entry.buffer].data).decode())
    return None


def convert_variants(generator, size, variants, calibration_gray, folder, metadata, network_size=None, detail_size=None,
                     saturation=1.0, progress=print):
    """Write `folder/colorizer_<variant>.tflite` and a JSON of metadata beside each; return their paths.

    The files take size x size photos; the network inside runs at `network_size` (by default the generator's
    training size), on the L shrunk to `detail_size` first where given, its colour scaled by `saturation`
    (`MobileModule`).
    """
    module = _frozen_module(generator, size, network_size, detail_size, saturation)
    written = {}
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.path.join(tmp, "mobile")
        tf.saved_model.save(
            module, saved, signatures={"colorize": module.colorize, "predict_ab": module.predict_ab},
            options=tf.saved_model.SaveOptions(experimental_custom_gradients=False),
        )
        for variant in variants:
            progress(f"[tflite] converting {variant} ...")
            if variant == "int16x8":
                blob = convert_16x8(saved, calibration_gray, module.network_size)
            else:
                blob = _converter(saved, variant, calibration_gray, module.network_size).convert()
            if variant in QUANTIZED:
                float_layers = generator.float_stem_layers if variant == "int8" else ()
                blob = quantize_network(blob, "int8", generator.name, float_layers)
            blob = embed_metadata(blob, {**metadata, "variant": variant})
            path = os.path.join(folder, f"colorizer_{variant}.tflite")
            with open(path, "wb") as f:
                f.write(blob)
            with open(path[: -len(".tflite")] + ".json", "w") as f:
                json.dump({**metadata, "variant": variant}, f, indent=2)
            written[variant] = path
    return written


def check_builtin_ops(path):
    """Raise RuntimeError if a TFLite file holds Flex or custom ops (LiteRT on phones could not run it)."""
    bad = sorted(op for op in ops_in(path) if "FLEX" in op.upper() or "CUSTOM" in op.upper())
    if bad:
        raise RuntimeError(f"{path}: holds non-builtin ops {bad}")


def ops_in(path):
    """The set of op names in a TFLite file (checked for Flex and custom ops)."""
    from ai_edge_litert.interpreter import Interpreter

    return litert_op_names(Interpreter(model_path=path))
