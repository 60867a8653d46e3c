"""Named points where the crash tests stop the process, as `kill -9` or a slow disk would there.

`KERAS_COLORIZER_KILL_AT=<point>[:<n>]` makes the process send itself
SIGKILL the n-th time (default: the first) it reaches the point: no handler
runs, no file is closed, exactly like a machine that dies there.
`KERAS_COLORIZER_PAUSE_AT=<point>` makes it sleep there for a minute (to
send it signals mid-save). Unset, always outside the tests, this does
nothing. The points are listed in `POINTS`.
"""

import os
import signal
import time

KILL_ENV = "KERAS_COLORIZER_KILL_AT"
PAUSE_ENV = "KERAS_COLORIZER_PAUSE_AT"
POINTS = (
    "checkpoint-written",  # the new checkpoint is complete under its temporary name
    "checkpoint-renamed",  # the new checkpoint has its name; older ones not yet pruned
    "checkpoint-pruning",  # an old checkpoint has been renamed away, not yet deleted
    "history-written",  # the epoch's row is in history.csv, its checkpoint not yet saved
    "export-staged",  # the new export is complete in its temporary folder
    "export-aside",  # the old export has been renamed aside, the new one not yet in place
    "export-swapped",  # the new export is in place, the old one not yet deleted
    "video-frame",  # a colorized frame went to the segment encoder
    "video-segment",  # a segment file is complete, not yet recorded in job.json
    "video-joined",  # the whole output is written under its temporary name, not yet renamed
)
_reached = {}


def reached(point):
    """Kill or pause this process here if the tests asked for it at `point`."""
    kill = os.environ.get(KILL_ENV)
    if kill:
        name, _, nth = kill.partition(":")
        if name == point:
            _reached[point] = _reached.get(point, 0) + 1
            if _reached[point] == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(PAUSE_ENV) == point:
        time.sleep(60)
