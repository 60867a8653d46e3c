"""Replace a folder by a finished one so that a crash at any moment leaves the old one or the new one.

The new folder is built at `<out>.tmp-<pid>`. To put it in place the old one
is renamed to `<out>.old-<pid>`, the new one renamed to `<out>`, and only
then is the old one deleted. A process killed between two of these steps
leaves a state `recover` recognises and finishes (or undoes) at the start
of the next export to the same folder; it also removes the half-built
`.tmp-` folders of killed exports.
"""

import contextlib
import fcntl
import os
import shutil

from keras_colorizer.crashpoints import reached
from keras_colorizer.errors import UserError

TMP, OLD, LOCK = ".tmp-", ".old-", ".lock"


@contextlib.contextmanager
def locked(out):
    """Hold `<out>.lock` for one export: an OS lock, released when the process ends however it ends.

    A second export to the same `out` is refused in one line instead of
    deleting the first one's staging folder as a leftover. The lock file is
    removed when the export ends; one a killed export leaves is locked by
    nobody and taken over by the next.
    """
    path = out + LOCK
    try:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        handle = open(path, "a")
    except OSError as error:
        raise UserError(f"{out}: cannot write the export there ({error.strerror or error})") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The file may have been removed by the export that held it, between our open and our lock.
            taken = os.path.exists(path) and os.path.samestat(os.stat(path), os.fstat(handle.fileno()))
        except BlockingIOError:
            taken = False
        if not taken:
            raise UserError(f"{out}: another export to this folder is running (it holds {path}); "
                            "wait for it to finish or choose another --out") from None
        try:
            yield
        finally:
            os.remove(path)  # while still locked: no other export can be holding this file


def recover_on_load(path):
    """Before reading an export at `path`: finish or undo a swap that a killed export left in an ancestor folder.

    Returns the repairs made (one line each). Where another export holds the
    folder's lock, nothing is touched: that export finishes the swap itself.
    """
    path = os.path.abspath(os.fspath(path))
    while not os.path.exists(path) and os.path.dirname(path) != path:
        if _siblings(path, OLD):
            try:
                with locked(path):
                    return recover(path)
            except UserError:
                return []
        path = os.path.dirname(path)
    return []


def staging_folder(out):
    """Where this process builds the new `out` (created empty)."""
    tmp = f"{out}{TMP}{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    return tmp


def _siblings(out, marker):
    parent, base = os.path.split(out)
    if not os.path.isdir(parent or "."):
        return {}
    prefix = base + marker
    return {name[len(prefix):]: os.path.join(parent, name) for name in os.listdir(parent or ".") if name.startswith(prefix)}


def recover(out):
    """Finish or undo what an export killed mid-swap left at `out`; return one line per repair."""
    done = []
    staged, aside = _siblings(out, TMP), _siblings(out, OLD)
    for pid, old in aside.items():
        if os.path.exists(out):  # the new one was in place: only the deletion was left
            shutil.rmtree(old, ignore_errors=True)
            done.append(f"{out}: removed the previous export a killed export left at {old}")
        elif pid in staged:  # killed between the renames: the staged export is complete
            os.replace(staged.pop(pid), out)
            shutil.rmtree(old, ignore_errors=True)
            done.append(f"{out}: finished the swap a killed export had begun (new export kept, previous one removed)")
        else:
            os.replace(old, out)
            done.append(f"{out}: put back the previous export a killed export had moved to {old}")
    for tmp in staged.values():
        shutil.rmtree(tmp, ignore_errors=True)
        done.append(f"{out}: removed the unfinished export a killed export left at {tmp}")
    return done


def swap_in(tmp, out):
    """Put the finished folder `tmp` at `out`, replacing any folder there; crash-safe at every step."""
    reached("export-staged")
    if not os.path.exists(out):
        os.replace(tmp, out)
        return
    aside = f"{out}{OLD}{os.getpid()}"
    os.replace(out, aside)
    reached("export-aside")
    os.replace(tmp, out)
    reached("export-swapped")
    shutil.rmtree(aside)
