"""LiteRT latency of TFLite files' `colorize` signature (the phone's whole recipe), side by side.

usage: python bench/phone_latency.py FILE [FILE ...] [--photo PNG] [--threads 1 2] [--runs 50] [--rounds 3]

Each round times every file in turn (median of `--runs` calls at each
thread count), so files compared share the machine's state; rounds repeat
that. The photo (default: Kodak's kodim03, else a gradient) is taken to
gray at the file's input size. Prints one JSON line: per file its size and
each round's milliseconds per thread count.
"""

import argparse
import os

import numpy as np
from common import SHARED, report

from keras_colorizer.export.report import litert_latency_ms


def gray_input(path, photo):
    """The uint8 (1, S, S, 1) gray photo a file's `colorize` takes, S read from the file."""
    from ai_edge_litert.interpreter import Interpreter
    from PIL import Image

    from keras_colorizer import signatures as names

    details = Interpreter(model_path=path).get_signature_runner(names.MOBILE_COLORIZE).get_input_details()
    size = int(details[names.MOBILE_INPUT]["shape"][1])
    if photo and os.path.isfile(photo):
        gray = np.asarray(Image.open(photo).convert("L").resize((size, size), Image.BILINEAR))
    else:
        gray = np.tile(np.linspace(0, 255, size, dtype=np.uint8), (size, 1))
    return gray[None, :, :, None]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--photo", default=str(SHARED / "data" / "dev" / "kodak24" / "kodim03.png"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for path in args.files:
        if not os.path.isfile(path):
            raise SystemExit(f"error: {path}: no such TFLite file")
    inputs = {path: gray_input(path, args.photo) for path in args.files}
    times = {path: [] for path in args.files}
    for _ in range(args.rounds):
        for path in args.files:
            times[path].append({threads: round(litert_latency_ms(path, inputs[path], threads, runs=args.runs), 2)
                                for threads in args.threads})
    report({"runs": args.runs, "files": {path: {"mib": round(os.path.getsize(path) / 2**20, 2), "ms": rounds}
                                         for path, rounds in times.items()}})


if __name__ == "__main__":
    main()
