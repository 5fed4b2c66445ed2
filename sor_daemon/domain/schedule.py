"""Absolute schedules: slice *k* is due at ``anchor + k * interval``, whatever came before.

Lateness never accumulates: a slice that fires late does not move the next one. A slice whose time
passed unseen (the daemon was down, the EMS session was down) is not traded twice over: the order
jumps to the latest slice that is due and spreads what is left over the slices that remain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from sor_daemon.protocol.periods import Period


@attrs.frozen
class Schedule:
    """When each of a smart order's slices is due."""

    anchor: datetime
    interval: timedelta
    iterations: int

    @classmethod
    def plan(cls, anchor: datetime, duration: Period, interval: Period) -> Schedule:
        """The seed's rule: ``iterationCount = duration / interval + 1``; slice 0 at once."""
        return cls(anchor, interval.timedelta, duration.seconds // interval.seconds + 1)

    @property
    def end(self) -> datetime:
        """When the last slice is due."""
        return self.due(self.iterations - 1)

    def due(self, index: int) -> datetime:
        """When slice ``index`` is due."""
        return self.anchor + index * self.interval

    def latest_due(self, now: datetime) -> int:
        """The index of the newest slice due at ``now`` (0 before the start; capped at the last)."""
        if now <= self.anchor:
            return 0
        return min(int((now - self.anchor) // self.interval), self.iterations - 1)

    def first_not_before(self, moment: datetime) -> int:
        """The index of the first slice due at or after ``moment`` (may be past the last one)."""
        if moment <= self.anchor:
            return 0
        elapsed = moment - self.anchor
        index = int(elapsed // self.interval)
        return index if self.due(index) >= moment else index + 1
