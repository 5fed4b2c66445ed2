"""CoinAPI's OHLCV REST API: what a symbol traded per period, newest or over a stretch of time.

``GET /v1/ohlcv/{symbol_id}/latest`` (newest first) and ``/history`` (oldest first), with
CoinAPI's period ids (``1SEC``, ``10SEC``, ``1MIN``, ...; periods are aligned to the epoch). A
period in which nothing traded has no row. Rows become ``OhlcvRow`` values with Decimal prices
and volume; a row that is not in the documented shape is an ``UpstreamError``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import attrs

from sor_daemon.coinapi.rest import CoinApiRest, UpstreamError
from sor_daemon.protocol.times import format_iso, parse_iso


@attrs.frozen
class OhlcvRow:
    """One period of one symbol: its open, high, low and close prices and what it traded."""

    time_period_start: datetime
    time_period_end: datetime
    time_open: datetime
    time_close: datetime
    price_open: Decimal
    price_high: Decimal
    price_low: Decimal
    price_close: Decimal
    volume_traded: Decimal
    trades_count: int


class OhlcvClient:
    """Reads OHLCV rows through a ``CoinApiRest`` (which retries and explains failures)."""

    def __init__(self, rest: CoinApiRest) -> None:
        self._rest = rest

    async def latest(self, symbol_id: str, period_id: str, limit: int = 100) -> list[OhlcvRow]:
        """The newest ``limit`` rows of ``symbol_id``, newest first."""
        body = await self._rest.get_json(
            f"/v1/ohlcv/{quote(symbol_id, safe='')}/latest",
            {"period_id": period_id, "limit": str(limit)},
        )
        return _rows(body, symbol_id)

    async def history(
        self, symbol_id: str, period_id: str, start: datetime, end: datetime, limit: int = 100
    ) -> list[OhlcvRow]:
        """Up to ``limit`` rows of ``symbol_id`` from ``start`` until ``end``, oldest first."""
        body = await self._rest.get_json(
            f"/v1/ohlcv/{quote(symbol_id, safe='')}/history",
            {
                "period_id": period_id,
                "time_start": format_iso(start),
                "time_end": format_iso(end),
                "limit": str(limit),
            },
        )
        return _rows(body, symbol_id)


def _rows(body: Any, symbol_id: str) -> list[OhlcvRow]:
    if not isinstance(body, list):
        raise UpstreamError(f"the OHLCV of {symbol_id} is not a list of rows")
    try:
        return [_row(entry) for entry in body]
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise UpstreamError(
            f"an OHLCV row of {symbol_id} is not in CoinAPI's shape: {error!r}"
        ) from error


def _row(entry: dict[str, Any]) -> OhlcvRow:
    return OhlcvRow(
        time_period_start=parse_iso(entry["time_period_start"]),
        time_period_end=parse_iso(entry["time_period_end"]),
        time_open=parse_iso(entry["time_open"]),
        time_close=parse_iso(entry["time_close"]),
        price_open=_decimal(entry["price_open"]),
        price_high=_decimal(entry["price_high"]),
        price_low=_decimal(entry["price_low"]),
        price_close=_decimal(entry["price_close"]),
        volume_traded=_decimal(entry["volume_traded"]),
        trades_count=int(entry["trades_count"]),
    )


def _decimal(value: Any) -> Decimal:
    """A JSON number as a Decimal, through its shortest text (``60001.5``, not the float)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{value!r} is not a number")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number
