"""The EMS account over CoinAPI's EMS REST API: balances, open orders, positions.

CoinAPI's EMS answers ``GET /v1/balances`` and ``/v1/positions`` as ``[{"exchange_id": X,
"data": [...]}]`` and ``GET /v1/orders`` as a flat list; the SOR protocol shows them grouped by
exchange (``{"DERIBIT": [...]}``). This adapter asks and regroups; the protocol codec checks the
shapes.
"""

from __future__ import annotations

from typing import Any

from sor_daemon.coinapi.rest import CoinApiRest, UpstreamError


class EmsAccount:
    """Implements the engine's ``AccountSource`` over the EMS's REST API."""

    def __init__(self, rest: CoinApiRest) -> None:
        self._rest = rest

    async def balances(self) -> dict[str, list[Any]]:
        """Balances grouped by exchange."""
        return _by_exchange_blocks(await self._rest.get_json("/v1/balances"))

    async def positions(self) -> dict[str, list[Any]]:
        """Positions grouped by exchange."""
        return _by_exchange_blocks(await self._rest.get_json("/v1/positions"))

    async def open_orders(self) -> dict[str, list[Any]]:
        """Open orders grouped by exchange."""
        orders = await self._rest.get_json("/v1/orders")
        if not isinstance(orders, list):
            raise UpstreamError("the EMS answered /v1/orders with something other than a list")
        grouped: dict[str, list[Any]] = {}
        for order in orders:
            grouped.setdefault(str(order.get("exchange_id", "")), []).append(order)
        return grouped


def _by_exchange_blocks(blocks: Any) -> dict[str, list[Any]]:
    if not isinstance(blocks, list):
        raise UpstreamError("the EMS answered with something other than a list of exchanges")
    grouped: dict[str, list[Any]] = {}
    for block in blocks:
        if not isinstance(block, dict) or "exchange_id" not in block:
            raise UpstreamError("the EMS answered an entry without exchange_id")
        grouped.setdefault(str(block["exchange_id"]), []).extend(block.get("data") or [])
    return grouped
