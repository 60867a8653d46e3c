"""The error type every data source raises for bad input."""

from keras_colorizer.errors import UserError


class DataError(UserError):
    """A dataset path or file is missing, malformed or holds no usable image.

    The message is one line that names the file or value and what was expected.
    """
