"""The error type every data source raises for bad input."""


class DataError(ValueError):
    """A dataset path or file is missing, malformed or holds no usable image.

    The message is one line that names the file or value and what was expected.
    """
