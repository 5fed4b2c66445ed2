"""Interpreter settings for a process that must answer within milliseconds.

The daemon and the simulator each run one busy Trio thread beside threads that mostly wait on
I/O: quickfix's socket reader and writer, and the journal's SQLite worker. A thread coming back
from a blocking call needs the GIL again, and CPython lets it wait up to the *switch interval*
for a busy holder to let go: 5 ms by default, paid by the reader for each FIX message and by the
SQLite worker for each step into SQLite. The Trio thread pays it too, since quickfix's bindings
release the GIL in every call (each ``setField``, each send). A shorter interval keeps those
waits short, for more frequent hand-overs while two threads are both busy. The collector's
policy is in ``gc_policy``.
"""

from __future__ import annotations

import math
import sys

from sor_daemon.gc_policy import DEFAULT_GROWTH, FreezingCollector

SWITCH_INTERVAL_SECONDS = 0.0005


def tune_for_latency(*, keeps_history: bool = False) -> None:
    """Shorten GIL hand-overs and the garbage collector's pauses for the rest of the process.

    ``keeps_history`` is for the simulator, which keeps every order it was ever sent (as an EMS
    keeps its order history): its heap only grows, so its frozen objects are never thawed.
    Cyclic garbage frozen among them is a small share of that growth, and thawing would only
    bring back walks of the whole history, a second each after a few hundred thousand orders.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    FreezingCollector(growth=math.inf if keeps_history else DEFAULT_GROWTH).install()
