"""Errors caused by what a user gave us (paths, files, option values).

Command-line tools turn these into one line and exit code 2; anything else
is a bug and keeps its traceback.
"""


class UserError(ValueError):
    """Bad input from the user. The message names the file or value and what was expected."""


def first_line(error):
    """An exception's message cut to its first line (its type's name when it has none), for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
