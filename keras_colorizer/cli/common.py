"""What every command line shares: quiet TensorFlow logs and one-line errors."""

import argparse
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


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but a bad argument is one line, `error: ...`, and exit code 2 (no usage block)."""

    def error(self, message):
        self.exit(EXIT_USER_ERROR, f"error: {message} (see {self.prog} --help)\n")


def positive_int(value):
    """An argparse type: an integer of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return number
