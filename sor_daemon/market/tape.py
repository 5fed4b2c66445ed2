"""One symbol's trades as the live feed printed them, summed per second, for a bounded while.

A tape is one unbroken stretch of the feed: it starts when the subscription's snapshot arrives
(``live_since``, the daemon's clock) and ends when the session drops or the symbol is no longer
wanted, at which point its owner throws it away. So it can say whether it saw *all* the trading
of a stretch of time, and only then what that trading was.

Trades are bucketed by the second of their own time (272/273, the venue's clock) and a bucket
counts toward ``[start, end)`` when its second *ends* in ``(start, end]``, the rule OHLCV rows
follow too: only whole seconds count, so a stretch that ends now is not cut short by the second
still running, and the answer is exact to the second. Buckets older than ``retention`` are
dropped as trades arrive. Trades still on the wire at ``end`` (network latency) are not
counted: negligible against the seconds-long stretches the algorithms ask about.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

ZERO = Decimal(0)


class TradeTape:
    """Volume and notional (sum of price times size) per second since ``live_since``."""

    def __init__(self, live_since: datetime, retention: timedelta) -> None:
        self.live_since = live_since
        self._retention = retention
        self._buckets: dict[int, tuple[Decimal, Decimal]] = {}

    def record(self, price: Decimal, size: Decimal, at: datetime, now: datetime) -> None:
        """Add a trade printed at ``at``; ``now`` is the daemon's clock, for the retention."""
        second = math.floor(at.timestamp())
        volume, notional = self._buckets.get(second, (ZERO, ZERO))
        self._buckets[second] = (volume + size, notional + price * size)
        self._forget_before(now - self._retention)

    def covers(self, start: datetime, end: datetime, now: datetime) -> bool:
        """True when the tape saw every trade of the seconds ``traded`` counts, as of ``now``."""
        first_second = datetime.fromtimestamp(math.floor(start.timestamp()), start.tzinfo)
        return max(self.live_since, now - self._retention) <= first_second and end <= now

    def traded(self, start: datetime, end: datetime) -> tuple[Decimal, Decimal]:
        """Volume and notional of the whole seconds that end in ``(start, end]``.

        A slice asks about its last interval, often a second or two, while the tape keeps up to
        ``retention`` of buckets (an hour: 3,600): the seconds asked about are looked up one by
        one when they are fewer than the buckets kept, so a slice's cost does not grow with how
        long the daemon has been watching the symbol (the schedule benchmark's drift)."""
        first, stop = math.floor(start.timestamp()), math.floor(end.timestamp())
        if stop - first < len(self._buckets):
            buckets = (self._buckets.get(second) for second in range(first, stop))
        else:
            buckets = (b for second, b in self._buckets.items() if first <= second < stop)
        volume = notional = ZERO
        for bucket in buckets:
            if bucket is not None:
                volume += bucket[0]
                notional += bucket[1]
        return volume, notional

    def _forget_before(self, cutoff: datetime) -> None:
        """Drop buckets from before ``cutoff``, from the oldest on.

        Trades arrive in time order; a bucket opened late for an older second goes when the
        ones opened before it have gone.
        """
        oldest_kept = math.floor(cutoff.timestamp())
        while self._buckets:
            second = next(iter(self._buckets))
            if second >= oldest_kept:
                break
            del self._buckets[second]
