"""What symbols traded in a stretch of time, from CoinAPI's OHLCV history.

For stretches the live feed did not see whole (before a subscription, across a lost session,
beyond the tapes' retention). The period is chosen by the stretch's length: the coarsest of
``HISTORY_PERIODS`` that still cuts it into at least ``MIN_ROWS`` rows (so a row only partly in
the stretch weighs about 1% at most), and 1SEC below 100 seconds. A row counts when its period
ends in ``(start, end]``: only whole periods, as the live tapes count whole seconds.

OHLCV rows carry no notional, so each row's is approximated as its volume times its typical
price, ``(high + low + close) / 3``: within the row's price range, and close to the true value
for the short periods chosen here. CoinAPI's history can lag a few seconds behind the market, so
the newest seconds of a stretch that ends now may be missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

import structlog
import trio

from sor_daemon.coinapi.ohlcv import OhlcvRow
from sor_daemon.coinapi.rest import UpstreamError
from sor_daemon.protocol.periods import Period

log = structlog.get_logger(__name__)

HISTORY_PERIODS = tuple(
    Period.parse(period_id) for period_id in ("1SEC", "10SEC", "1MIN", "10MIN", "1HRS", "1DAY")
)
MIN_ROWS = 100
MAX_LIMIT = 100_000
ZERO = Decimal(0)


class OhlcvHistory(Protocol):
    """Where OHLCV rows come from (``sor_daemon.coinapi.ohlcv.OhlcvClient``)."""

    async def history(
        self, symbol_id: str, period_id: str, start: datetime, end: datetime, limit: int = 100
    ) -> list[OhlcvRow]:
        """Up to ``limit`` rows of ``symbol_id`` from ``start`` until ``end``, oldest first."""
        ...


def history_period(span: timedelta) -> Period:
    """The coarsest period that cuts ``span`` into at least ``MIN_ROWS`` rows; 1SEC at least."""
    chosen = HISTORY_PERIODS[0]
    for period in HISTORY_PERIODS:
        if span >= period.timedelta * MIN_ROWS:
            chosen = period
    return chosen


def period_start(at: datetime, period: Period) -> datetime:
    """The start of the period ``at`` falls in (CoinAPI's periods are aligned to the epoch)."""
    seconds = math.floor(at.timestamp() / period.seconds) * period.seconds
    return datetime.fromtimestamp(seconds, at.tzinfo)


def traded(rows: Iterable[OhlcvRow], start: datetime, end: datetime) -> tuple[Decimal, Decimal]:
    """Volume and approximate notional of the rows whose period ends in ``(start, end]``."""
    volume = notional = ZERO
    for row in rows:
        if start < row.time_period_end <= end:
            typical_price = (row.price_high + row.price_low + row.price_close) / 3
            volume += row.volume_traded
            notional += row.volume_traded * typical_price
    return volume, notional


async def history_traded(
    source: OhlcvHistory, symbol_ids: Sequence[str], start: datetime, end: datetime
) -> tuple[Decimal, Decimal] | None:
    """Volume and notional these symbols traded together in ``[start, end)``, asked in parallel.

    None when any symbol's history cannot be had (and why is logged).
    """
    period = history_period(end - start)
    # Whole periods only: from the one that ends just after ``start`` to the last that ends by
    # ``end``. Stretches that end in the same period ask the same rows (``SharedHistory``).
    first_start = period_start(start - period.timedelta, period)
    last_end = period_start(end, period)
    limit = min(MAX_LIMIT, math.ceil((last_end - first_start) / period.timedelta) + 1)
    totals: list[tuple[Decimal, Decimal]] = []
    failed: list[str] = []

    async def ask(symbol_id: str) -> None:
        try:
            rows = await source.history(symbol_id, str(period), first_start, last_end, limit)
        except UpstreamError as error:
            log.warning("no OHLCV history", symbol_id=symbol_id, error=str(error))
            failed.append(symbol_id)
            nursery.cancel_scope.cancel()
            return
        totals.append(traded(rows, start, end))

    async with trio.open_nursery() as nursery:
        for symbol_id in symbol_ids:
            nursery.start_soon(ask, symbol_id)
    if failed:
        return None
    return sum((v for v, _ in totals), ZERO), sum((n for _, n in totals), ZERO)
