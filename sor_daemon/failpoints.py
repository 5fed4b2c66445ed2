"""Failpoints: named places where a crash test can make the daemon die on purpose.

The crash tests must kill the daemon exactly where durability is hardest (a child journaled but
not yet sent, a fill received but not yet journaled), not just wherever a timer happens to land.
``SOR_CRASH_AT=NAME:N`` in the environment makes the daemon SIGKILL itself the N-th time it
passes the failpoint NAME. Unset (always, in production) a failpoint costs one dict look-up.
"""

from __future__ import annotations

import os
import signal

CHILD_JOURNALED = "child_journaled"
REPORT_RECEIVED = "report_received"

_armed: dict[str, int] = {}


def arm_from_environment() -> None:
    """Read ``SOR_CRASH_AT`` (``NAME:N``); called once at start."""
    spec = os.environ.get("SOR_CRASH_AT", "")
    name, _, count = spec.partition(":")
    if name:
        _armed[name] = int(count or "1")


def reached(name: str) -> None:
    """Die here (SIGKILL, no clean-up) if this failpoint is armed and its count is reached."""
    if name not in _armed:
        return
    _armed[name] -= 1
    if _armed[name] <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
