"""Sizes, LiteRT latency and agreement with the Keras model, as JSON and Markdown."""

import json
import os
import statistics
import time

import numpy as np

from keras_colorizer import signatures as names


def folder_size(path):
    """Bytes of a file, or of everything under a folder."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files)


def litert_latency_ms(path, gray, threads, runs=5, signature=names.MOBILE_COLORIZE):
    """Median time of a signature with the LiteRT interpreter (XNNPACK).

    `colorize` takes the uint8 `gray` as it is; `predict_ab` (the network
    alone, no colour conversion) takes its network-range L at the network's size.
    """
    from ai_edge_litert.interpreter import Interpreter

    from keras_colorizer.export.graphs import gray_to_network_l

    runner = Interpreter(model_path=path, num_threads=threads).get_signature_runner(signature)
    if signature == names.MOBILE_COLORIZE:
        inputs = {names.MOBILE_INPUT: gray}
    else:
        inputs = {names.PREDICT_AB_INPUT: gray_to_network_l(gray, _network_size(runner))}
    runner(**inputs)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner(**inputs)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _network_size(predict_ab_runner):
    """The side of a TFLite file's `predict_ab` input: the network's size."""
    return int(predict_ab_runner.get_input_details()[names.PREDICT_AB_INPUT]["shape"][1])


def keras_reference(generator, size, originals, network_size=None, detail_size=None, saturation=1.0):
    """What the float32 Keras generator gives on the eval crops, through the same mobile graph in TensorFlow.

    Returns a dict of uint8 `gray` (N, S, S, 1), uint8 `rgb` (N, S, S, 3)
    and float `ab` (N, S, S, 2) in network range.
    """
    from keras_colorizer.export.graphs import MobileModule, gray_to_network_l, to_gray

    mobile = MobileModule(generator, size, network_size, detail_size, saturation)
    gray = to_gray(originals)[..., None]
    rgb, ab = [], []
    for g in gray:
        rgb.append(mobile.colorize(g[None])[names.MOBILE_OUTPUT].numpy()[0])
        ab.append(mobile.predict_ab(gray_to_network_l(g[None], mobile.network_size))[names.PREDICT_AB_OUTPUT].numpy()[0])
    return {"gray": gray, "rgb": np.stack(rgb), "ab": np.stack(ab)}


def run_tflite(path, reference):
    """The TFLite file's `rgb` and `ab` on the reference's inputs."""
    from ai_edge_litert.interpreter import Interpreter

    from keras_colorizer.export.graphs import gray_to_network_l

    interpreter = Interpreter(model_path=path)
    colorize = interpreter.get_signature_runner(names.MOBILE_COLORIZE)
    predict_ab = interpreter.get_signature_runner(names.PREDICT_AB)
    rgb, ab = [], []
    for g in reference["gray"]:
        rgb.append(colorize(**{names.MOBILE_INPUT: g[None]})[names.MOBILE_OUTPUT][0])
        l_norm = gray_to_network_l(g[None], _network_size(predict_ab))
        ab.append(predict_ab(**{names.PREDICT_AB_INPUT: l_norm})[names.PREDICT_AB_OUTPUT][0])
    return {"gray": reference["gray"], "rgb": np.stack(rgb), "ab": np.stack(ab)}


def score(result, reference, originals):
    """Agreement with the Keras float32 model and colorization PSNR against the true photos (means over crops)."""
    from keras_colorizer.metrics import psnr

    same = result is reference
    return {
        "agreement_psnr_db": None if same else float(np.mean(psnr(reference["rgb"], result["rgb"]))),
        "max_ab_error": None if same else float(np.abs(result["ab"] - reference["ab"]).max() * 110.0),
        "colorization_psnr_db": float(np.mean(psnr(originals, result["rgb"]))),
    }


def write_report(out_dir, rows):
    """`report.json` and `report.md` in `out_dir`; returns the Markdown table."""
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump(rows, f, indent=2)
    columns = [
        ("artifact", "artifact"),
        ("size_mb", "size (MB)"),
        ("latency_ms_1_thread", "LiteRT 1 thread (ms)"),
        ("latency_ms_2_threads", "LiteRT 2 threads (ms)"),
        ("agreement_psnr_db", "agreement with Keras float32 (RGB PSNR, dB)"),
        ("max_ab_error", "max ab error vs Keras"),
        ("colorization_psnr_db", "PSNR vs true colour (dB)"),
    ]
    fmt = lambda v: "" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))  # noqa: E731
    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(key)) for key, _ in columns) + " |")
    table = "\n".join(lines)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write("# Export report\n\n" + table + "\n")
    return table
