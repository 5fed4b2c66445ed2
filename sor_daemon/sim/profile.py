"""The intraday volume profile: how busy the market is at a moment, relative to its average.

Real markets trade unevenly over a day: busy when the big centres open and around the daily
close, quiet in between. The profile is a list of relative weights of equal slices of a period
(24 hourly weights over a day by default), counted from the epoch in UTC so that every
simulator agrees on the time of day. Stretching the period compresses a whole "day" into a few
seconds for tests, which then see busy and quiet stretches in a short run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal


class VolumeProfile:
    """Relative trading activity over a repeating period, normalised to an average of 1."""

    def __init__(self, weights: Sequence[Decimal], period: timedelta) -> None:
        if not weights or not any(weights) or any(weight < 0 for weight in weights):
            raise ValueError("a volume profile needs non-negative weights, one above zero")
        if period <= timedelta(0):
            raise ValueError("a volume profile's period must be positive")
        mean = sum(weights, Decimal(0)) / len(weights)
        self._factors = tuple(float(weight / mean) for weight in weights)
        self._period_us = _microseconds(period)

    def factor(self, moment: datetime) -> float:
        """The activity at ``moment`` over the average: 1 is a typical moment, 0 a dead one."""
        position = _microseconds(moment - _EPOCH) % self._period_us
        return self._factors[position * len(self._factors) // self._period_us]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _microseconds(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
