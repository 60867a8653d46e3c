"""Files written whole or not at all: under a temporary name beside the target, then renamed onto it.

A reader, a full disk or a process killed at any moment (kill -9) sees the
old file or the new one, never half of one; a failed write removes its
temporary file.
"""

import contextlib
import json
import os


@contextlib.contextmanager
def replacing(path, suffix=""):
    """Yield a temporary name beside `path` to write; when the block ends without error, rename it onto `path`.

    `suffix` keeps the extension a writer goes by (`.png` for Matplotlib,
    `.npz` for NumPy, `.weights.h5` for Keras).
    """
    tmp = f"{path}.tmp-{os.getpid()}{suffix}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    """Write a text file atomically, flushed to the disk before the rename."""
    with replacing(path) as tmp, open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def write_json(path, values):
    """Write JSON atomically (`write_text`)."""
    write_text(path, json.dumps(values, indent=2, sort_keys=True) + "\n")
