"""Many smart orders into a running daemon over REST, the way a desk's scripts would send them.

``POST /v1/sor/add`` from a few concurrent HTTP clients: unlike a WebSocket, REST carries no
broadcast back to the sender, so a benchmark that submits thousands of orders is not also
reading thousands of feed messages (or being closed as a slow consumer) while it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import trio

from bench.harness import BenchmarkFailed

VENUES = (
    ("DERIBIT", "perpetual"),
    ("BINANCE", "perpetual"),
    ("COINBASE", "spot"),
    ("KRAKEN", "spot"),
)
"""The simulator's four venues, each with a BTC-USD instrument."""

CHILD_SIZE = {"perpetual": 0.2, "spot": 0.001}
"""BTC per child: twice the perpetuals' minimum size (0.1) and well above the spot venues'."""


def twap_body(index: int, slices: int, duration: str, interval: str) -> dict[str, Any]:
    """The ``index``-th TWAP of a benchmark: BTC-USD on one venue, the venues taken in turn and
    the sides alternating (so spot balances and positions stay near where they started), with an
    amount of two minimum-size children a slice, so no slice is too small to trade."""
    exchange, symbol_type = VENUES[index % len(VENUES)]
    size = CHILD_SIZE[symbol_type]
    return {
        "Algorithm": "TWAP",
        "Exchanges": [exchange],
        "Parameters": {
            "side": "buy" if index // len(VENUES) % 2 == 0 else "sell",
            "symbol": "BTC-USD",
            "symbol_type": symbol_type,
            "amount": f"{size * slices:.3f}",
            "duration": duration,
            "interval": interval,
        },
    }


async def submit(api_url: str, bodies: Sequence[dict[str, Any]], clients: int = 8) -> list[str]:
    """Submit every body with ``clients`` concurrent HTTP connections; the ids, in order.

    Raises BenchmarkFailed when the daemon refuses one: a benchmark measures accepted orders.
    """
    ids: list[str] = [""] * len(bodies)
    next_index = iter(range(len(bodies)))

    async def client() -> None:
        async with httpx.AsyncClient(base_url=f"{api_url}/v1/sor", timeout=60) as http:
            for index in next_index:
                answer = await http.post("/add", json=bodies[index])
                if answer.status_code != 200:
                    raise BenchmarkFailed(f"order {index} refused: {answer.text}")
                ids[index] = answer.json()["id"]

    async with trio.open_nursery() as nursery:
        for _ in range(clients):
            nursery.start_soon(client)
    return ids
