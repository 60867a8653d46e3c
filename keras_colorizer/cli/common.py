"""What every command line shares: quiet TensorFlow logs and one-line errors."""

import os
import sys

EXIT_USER_ERROR = 2


def quiet_tensorflow():
    """Hide TensorFlow's C++ info and warning logs (set before TensorFlow is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def fail(message):
    """Print `error: message` on one line to stderr; return the user-error exit code."""
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR
