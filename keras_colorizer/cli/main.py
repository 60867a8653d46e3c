"""`keras-colorizer COMMAND ...`: one command for the flow, train -> colorize -> evaluate -> export.

Each subcommand takes the options its own `--help` lists; the older names
(`python train.py`, `keras-colorizer-train`, `colorize`,
`keras-colorizer-evaluate`, `keras-colorizer-export`, `python -m
keras_colorizer.export`) run the same code and stay as aliases.
"""

import importlib
import sys

from keras_colorizer.cli.common import fail

# name -> (module whose main(argv) runs it, one line of what it does)
COMMANDS = {
    "train": ("keras_colorizer.cli.train", "train a colorizer on your photos (also: python train.py)"),
    "colorize": ("keras_colorizer.cli.colorize", "colorize photos and videos (the ready-made model by default)"),
    "evaluate": ("keras_colorizer.cli.evaluate", "score a colorizer against colour photos, beside gray"),
    "export": ("keras_colorizer.cli.export", "write a SavedModel for TF Serving and TFLite files for phones"),
    "demo": ("keras_colorizer.cli.demo", "a page on this computer to try it: photos, videos, the phone model in the browser"),
}


def usage():
    lines = ["usage: keras-colorizer COMMAND [options]   (keras-colorizer COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<10}{what}" for name, (_, what) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        return fail(f"{name!r} is not a command; expected one of {', '.join(COMMANDS)} (see keras-colorizer --help)")
    return importlib.import_module(COMMANDS[name][0]).main(rest)


if __name__ == "__main__":
    sys.exit(main())
