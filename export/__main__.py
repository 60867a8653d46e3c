"""`python -m keras_colorizer.export`: an alias of `keras-colorizer export` (an entry point, above every module)."""

import sys

from keras_colorizer.cli.export import main

sys.exit(main())
