"""Quotes from CoinAPI's market data REST API: ``GET /v1/quotes/{symbol_id}/current``.

Asked right before each slice, so the child is priced off the book as it is now. A quote that
cannot be had, is crossed or empty, or is older than ``max_age`` is not used: the algorithm waits
rather than trading blind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog

from sor_daemon.coinapi.rest import CoinApiRest, UpstreamError
from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.values import Quote
from sor_daemon.engine.clock import Clock
from sor_daemon.protocol.times import parse_iso

log = structlog.get_logger(__name__)


class RestQuoteSource:
    """Implements the engine's ``QuoteSource`` over the current-quote endpoint."""

    def __init__(self, rest: CoinApiRest, clock: Clock, max_age: timedelta) -> None:
        self._rest = rest
        self._clock = clock
        self._max_age = max_age

    async def quote(self, instrument: Instrument) -> Quote | None:
        """The venue's current top of book, or None when it is unusable (and why is logged)."""
        symbol_id = instrument.symbol_id_coinapi
        try:
            body = await self._rest.get_json(f"/v1/quotes/{symbol_id}/current")
            quote = _parse_quote(symbol_id, body)
        except (UpstreamError, ValueError, KeyError, InvalidOperation) as error:
            log.warning("no usable quote", symbol_id=symbol_id, error=str(error))
            return None
        age = self._clock.now() - quote.at
        if age > self._max_age:
            log.warning("quote is stale", symbol_id=symbol_id, age_seconds=age.total_seconds())
            return None
        if quote.bid <= 0 or quote.ask <= 0 or quote.bid >= quote.ask:
            log.warning("quote is crossed or empty", symbol_id=symbol_id)
            return None
        return quote


def _parse_quote(symbol_id: str, body: Any) -> Quote:
    at: datetime = parse_iso(body.get("time_exchange") or body["time_coinapi"])
    return Quote(
        symbol_id=symbol_id,
        bid=Decimal(str(body["bid_price"])),
        bid_size=Decimal(str(body["bid_size"])),
        ask=Decimal(str(body["ask_price"])),
        ask_size=Decimal(str(body["ask_size"])),
        at=at,
    )
