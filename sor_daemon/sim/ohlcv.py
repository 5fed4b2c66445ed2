"""OHLCV: the tape's one-second buckets aggregated into CoinAPI's periods, and the query's checks.

A period (``1SEC``, ``10SEC``, ``1MIN``, ... ``1DAY``) is aligned to the epoch: a ``10SEC``
period starts at :00, :10, ...; a ``1DAY`` period at midnight UTC. A period without a trade has
no row. Months and years have no fixed length, so the simulator refuses them rather than guess.
The query checks raise ``OhlcvQueryError`` with a sentence for the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.periods import Period
from sor_daemon.protocol.times import parse_iso
from sor_daemon.sim.tape import Bucket, epoch_second

DEFAULT_LIMIT = 100
MAX_LIMIT = 100_000
UNSUPPORTED_UNITS = ("MTH", "YRS")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OhlcvQueryError(ValueError):
    """An OHLCV query parameter that cannot be served; the message says which and why."""


@attrs.frozen
class Candle:
    """One period of one symbol: CoinAPI's OHLCV row."""

    period_start: datetime
    period_end: datetime
    time_open: datetime
    time_close: datetime
    price_open: Decimal
    price_high: Decimal
    price_low: Decimal
    price_close: Decimal
    volume: Decimal
    count: int


def candles(buckets: Iterable[Bucket], period_seconds: int) -> list[Candle]:
    """Aggregate buckets (oldest first) into periods of ``period_seconds``, oldest first."""
    rows: list[Candle] = []
    current = None
    for bucket in buckets:
        start = bucket.second - bucket.second % period_seconds
        if start == current:
            last = rows[-1]
            rows[-1] = attrs.evolve(
                last,
                time_close=bucket.last_time,
                price_high=max(last.price_high, bucket.high),
                price_low=min(last.price_low, bucket.low),
                price_close=bucket.close,
                volume=last.volume + bucket.volume,
                count=last.count + bucket.count,
            )
        else:
            current = start
            rows.append(
                Candle(
                    period_start=_at(start),
                    period_end=_at(start + period_seconds),
                    time_open=bucket.first_time,
                    time_close=bucket.last_time,
                    price_open=bucket.open,
                    price_high=bucket.high,
                    price_low=bucket.low,
                    price_close=bucket.close,
                    volume=bucket.volume,
                    count=bucket.count,
                )
            )
    return rows


def period_start_at_or_after(moment: datetime, period_seconds: int) -> int:
    """The epoch second of the first period boundary at or after ``moment``."""
    second = epoch_second(moment)
    if _at(second) < moment:
        second += 1
    return -(-second // period_seconds) * period_seconds


def parse_period(text: str | None) -> int:
    """``period_id`` as a whole number of seconds; months and years are refused."""
    if text is None:
        raise OhlcvQueryError("period_id is required, for example 1SEC, 1MIN or 1HRS")
    try:
        period = Period.parse(text, "period_id")
    except ProtocolError as error:
        raise OhlcvQueryError(error.message) from None
    if period.unit in UNSUPPORTED_UNITS:
        raise OhlcvQueryError(
            f"period_id {text} is not supported by the simulator: months and years have no "
            "fixed length; use SEC, MIN, HRS or DAY periods"
        )
    return period.seconds


def parse_limit(text: str | None) -> int:
    """``limit``: how many rows at most, 1 to ``MAX_LIMIT``; ``DEFAULT_LIMIT`` when absent."""
    if text is None:
        return DEFAULT_LIMIT
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise OhlcvQueryError(f"limit {text!r} must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def parse_window(start: str | None, end: str | None) -> tuple[datetime, datetime | None]:
    """``time_start`` (required) and ``time_end`` (optional, after the start) of a history."""
    if start is None:
        raise OhlcvQueryError("time_start is required, for example 2024-07-24T09:00:00Z")
    first = _parse_time(start, "time_start")
    if end is None:
        return first, None
    last = _parse_time(end, "time_end")
    if last <= first:
        raise OhlcvQueryError(f"time_end {end} must be after time_start {start}")
    return first, last


def _parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 time (no zone means UTC)."""
    try:
        return parse_iso(text)
    except ValueError:
        raise OhlcvQueryError(
            f"{name} {text!r} is not an ISO 8601 time, for example 2024-07-24T09:00:00Z"
        ) from None


def _at(second: int) -> datetime:
    return _EPOCH + timedelta(seconds=second)
