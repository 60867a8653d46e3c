"""Named points where the crash tests kill the process, as `kill -9` would at that moment.

Set `KERAS_COLORIZER_KILL_AT=<point>` and the process sends itself SIGKILL
when it reaches that point: no handler runs, no file is closed, exactly
like a machine that dies there. Unset (always, outside the tests) this does
nothing. The points are listed in `POINTS`.
"""

import os
import signal

ENV = "KERAS_COLORIZER_KILL_AT"
POINTS = (
    "checkpoint-written",  # the new checkpoint is complete under its temporary name
    "checkpoint-renamed",  # the new checkpoint has its name; older ones not yet pruned
    "checkpoint-pruning",  # an old checkpoint has been renamed away, not yet deleted
    "history-written",  # the epoch's row is in history.csv, its checkpoint not yet saved
    "export-staged",  # the new export is complete in its temporary folder
    "export-aside",  # the old export has been renamed aside, the new one not yet in place
    "export-swapped",  # the new export is in place, the old one not yet deleted
)


def reached(point):
    """Kill this process now if the tests asked for it at `point`."""
    if os.environ.get(ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
