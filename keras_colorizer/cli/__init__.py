"""Command-line entry points: `train.py` / `keras-colorizer-train` and `colorize`."""
