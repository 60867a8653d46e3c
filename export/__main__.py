"""`python -m keras_colorizer.export`: see `keras_colorizer.export.cli`."""

import sys

from keras_colorizer.export.cli import main

sys.exit(main())
