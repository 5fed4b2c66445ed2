"""Interpreter settings for a process that must keep up with a FIX session.

The daemon and the simulator each run one busy Trio thread beside quickfix's threads. quickfix's
reader hands every message it reads to Python, and for that it needs the GIL: CPython lets a
thread wait up to the *switch interval* for a busy holder to let go, 5 ms by default. At 5 ms a
reader could take at most a few hundred messages a second off its socket while the Trio thread
was busy, against the 2,000 reports a second of 1,000 orders slicing every second. The socket
filled; the simulator, which then answered from its reader thread, blocked sending into it and
stopped reading in turn, and the session's heartbeats timed out. The 600-slice schedule
benchmark lost its EMS session seven minutes in, in both runs at 5 ms (its simulator, stopped
later, hung in ``send``), and not in the one at 0.5 ms. (The simulator now sends from a thread of
its own, ``fix.outbox``; a reader that falls behind still makes every report late.)
The collector's policy is in ``gc_policy``.
"""

from __future__ import annotations

import sys

from sor_daemon.gc_policy import install_for_process

SWITCH_INTERVAL_SECONDS = 0.0005


def tune_for_latency(*, keeps_history: bool = False) -> None:
    """Shorten GIL hand-overs and the garbage collector's pauses for the rest of the process
    (``keeps_history``: see ``gc_policy.install_for_process``)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    install_for_process(keeps_history=keeps_history)
