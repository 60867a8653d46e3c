"""Sizes, LiteRT latency and agreement with the Keras model, as JSON and Markdown."""

import json
import os
import statistics
import time

import numpy as np


def folder_size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files)


def litert_latency_ms(path, gray, threads, runs=5):
    """Median time of the `colorize` signature with the LiteRT interpreter (XNNPACK)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads)
    runner = interpreter.get_signature_runner("colorize")
    runner(gray=gray)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner(gray=gray)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def run_colorize(path, gray):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=path).get_signature_runner("colorize")(gray=gray)["rgb"]


def psnr_uint8(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def write_report(out_dir, rows):
    """`report.json` and `report.md` in `out_dir`; returns the Markdown table."""
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump(rows, f, indent=2)
    header = "| artifact | size (MB) | LiteRT 1 thread (ms) | LiteRT 2 threads (ms) | agreement with float32 (RGB PSNR, dB) |"
    lines = [header, "| --- | --- | --- | --- | --- |"]
    fmt = lambda v: "" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))  # noqa: E731
    for row in rows:
        lines.append(
            f"| {row['artifact']} | {row['size_mb']:.1f} | {fmt(row.get('latency_ms_1_thread'))} | "
            f"{fmt(row.get('latency_ms_2_threads'))} | {fmt(row.get('agreement_psnr_db'))} |"
        )
    table = "\n".join(lines)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write("# Export report\n\n" + table + "\n")
    return table
