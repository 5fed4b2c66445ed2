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

The EMS session's process wakes each time the Trio thread hands it a turn's child orders, and a
process that wakes may take the core of the one that woke it, mid-turn: on two cores the Trio
thread was preempted about 600 times a second at 2,000 child orders a second. Marked as batch
work (``defer_to_the_daemon``) it never preempts on waking; it runs on a core that is free, or
once the Trio thread waits for I/O. The journal's writer was marked too, at first, and is not:
a fill waits for its commit, and with a hundred feed subscribers the delivery p50/p99 was
15.4/38.6 and 16.1/43.0 ms with it marked against 12.1/33.7 and 12.7/37.8 ms without, in
alternated runs; the throughput benchmark gave 0.56 of raw quickfix with it marked, 0.67
without (one pair).
"""

from __future__ import annotations

import os
import sys

SWITCH_INTERVAL_SECONDS = 0.0005


def tune_for_latency() -> None:
    """Shorten GIL hand-overs for the rest of the process."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


def defer_to_the_daemon() -> None:
    """Run this helper process, and the threads it starts from now on, as batch work (Linux's
    ``SCHED_BATCH``, at the same priority): waking never preempts the daemon's Trio thread."""
    if hasattr(os, "SCHED_BATCH"):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
