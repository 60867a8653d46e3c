"""Errors caused by what a user gave us (paths, files, option values).

Command-line tools turn these into one line and exit code 2; anything else
is a bug and keeps its traceback.
"""


class UserError(ValueError):
    """Bad input from the user. The message names the file or value and what was expected."""
