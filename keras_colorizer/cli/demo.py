"""`keras-colorizer demo [--model M]`: a page on this computer to try a colorizer (needs the [demo] extra).

The Gradio page at http://127.0.0.1:7860/ colorizes photos and short
videos; http://127.0.0.1:7860/litert/ runs the phone model (.tflite) inside
the browser with LiteRT.js.
"""

import os
import sys
import time

from keras_colorizer.cli.common import ArgumentParser, fail, quiet_tensorflow
from keras_colorizer.errors import UserError

TFLITE_IN_PRESET = "colorizer_int8.tflite"


def build_parser():
    parser = ArgumentParser(
        prog="keras-colorizer demo",
        description="Serve a page on this computer to try a colorizer: drop photos or a video, compare gray and colour, "
        "change the saturation, download PNGs. /litert/ runs the phone model in the browser itself.",
    )
    parser.add_argument("--model", default=None, metavar="RUN_OR_MODEL",
                        help="a preset's name, a run or checkpoint folder, a SavedModel folder or a .tflite file "
                        "(default: the ready-made preset)")
    parser.add_argument("--tflite", default=None, metavar="FILE",
                        help="the .tflite file the in-browser page runs (default: --model's if it is one, "
                        "else the preset's int8 file)")
    parser.add_argument("--saturation", type=float, default=None,
                        help="the slider's starting value (default: the model's setting, 1 for a run)")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1, this computer only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860; 0 picks a free one)")
    return parser


def page_tflite(model_path, tflite):
    """The .tflite file the in-browser page runs, or None (the page then asks for one)."""
    if tflite is not None:
        if not (os.path.isfile(tflite) and tflite.endswith(".tflite")):
            raise UserError(f"{tflite}: expected a .tflite file written by keras-colorizer export")
        return tflite
    if os.path.isfile(model_path) and model_path.endswith(".tflite"):
        return model_path
    shipped = os.path.join(model_path, TFLITE_IN_PRESET)
    return shipped if os.path.isfile(shipped) else None


def main(argv=None):
    started = time.perf_counter()  # "ready in" counts the imports too: most of the wait
    args = build_parser().parse_args(argv)
    quiet_tensorflow()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no request leaves this computer
    try:
        import gradio  # noqa: F401
    except ImportError:
        return fail('the demo needs Gradio: pip install "keras-colorizer[demo]"')
    from keras_colorizer.demo.app import build_app
    from keras_colorizer.demo.server import LITERT_PATH, serve, web_app
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.presets import DEFAULT_PRESET, resolve_model

    try:
        model_path = resolve_model(args.model or DEFAULT_PRESET)
        colorizer = Colorizer.load(model_path, saturation=args.saturation)
        tflite = page_tflite(model_path, args.tflite)
    except UserError as error:
        return fail(str(error))
    label = args.model or DEFAULT_PRESET
    app = web_app(build_app(colorizer, label, LITERT_PATH), tflite)

    def ready(url):
        print(f"Serving {label} on {url} (in-browser phone model: {url}{LITERT_PATH.lstrip('/')}); "
              f"ready in {time.perf_counter() - started:.1f} s. Ctrl-C stops it.", flush=True)

    try:
        serve(app, args.host, args.port, on_ready=ready)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
