"""Train the pix2pix colorizer: `python train.py --help` lists every option."""

import sys

from keras_colorizer.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
