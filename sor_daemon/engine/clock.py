"""Wall time for the engine, and the Trio deadline that corresponds to a wall time.

The domain takes time as an argument; the engine reads it here. ``SystemClock`` follows the
machine's UTC clock. ``TrioClock`` derives wall time from Trio's own clock, anchored at a given
moment, so that tests running under ``trio.testing.MockClock`` see a day pass in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import trio


class Clock(Protocol):
    """What the engine needs of a clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        ...

    def deadline(self, moment: datetime) -> float:
        """The ``trio.current_time()`` value at which ``moment`` arrives."""
        ...


class SystemClock:
    """The machine's UTC clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    def deadline(self, moment: datetime) -> float:
        """Trio's time at ``moment``, measured from now."""
        return trio.current_time() + (moment - self.now()).total_seconds()


class TrioClock:
    """Wall time as ``origin`` plus the Trio time elapsed since the clock was made."""

    def __init__(self, origin: datetime) -> None:
        self._origin = origin
        self._start = trio.current_time()

    def now(self) -> datetime:
        """``origin`` advanced by Trio's elapsed time."""
        return self._origin + timedelta(seconds=trio.current_time() - self._start)

    def deadline(self, moment: datetime) -> float:
        """Trio's time at ``moment``."""
        return self._start + (moment - self._origin).total_seconds()
