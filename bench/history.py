"""A journal full of finished smart orders, written through the daemon's own journal API.

The scale benchmark starts the daemon on a history of 100,000 orders that are over. Each is what
a short TWAP leaves behind: accepted, three slices (a market sample, a child, its fill report),
a closing sample, Completed, and retired as the engine retires an order that is over. The events
go through ``Journal.append`` and ``Journal.retire``, so the rows are the daemon's own encoding.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import trio

from sor_daemon.domain.events import (
    ChildPlanned,
    ChildReported,
    Event,
    MarketSampled,
    OrderAccepted,
    StatusChanged,
)
from sor_daemon.domain.values import ChildStatus, OrderStatus
from sor_daemon.protocol.messages import Side, SmartOrderParameters
from sor_daemon.protocol.periods import Period
from sor_daemon.store.journal import Journal

SLICES = 3
CHILD_QUANTITY = Decimal("0.1")
ORDERS_PER_COMMIT = 1000
HISTORY_START = datetime(2024, 7, 1, tzinfo=UTC)
INTERVAL = timedelta(minutes=1)
INSTRUMENTS = (
    ("DERIBIT", "perpetual", "DERIBIT_PERP_BTC_USD", "BTC-PERPETUAL"),
    ("BINANCE", "perpetual", "BINANCEFTSC_PERP_BTC_USD", "BTCUSD_PERP"),
    ("COINBASE", "spot", "COINBASE_SPOT_BTC_USD", "BTC-USD"),
    ("KRAKEN", "spot", "KRAKEN_SPOT_BTC_USD", "XBT/USD"),
)


def finished_order(index: int) -> list[Event]:
    """The events of the ``index``-th finished order: a 3-slice TWAP that filled completely."""
    exchange, symbol_type, symbol_id, venue_symbol = INSTRUMENTS[index % len(INSTRUMENTS)]
    order_id = f"history-{index:06d}"
    side = Side.BUY if index % 2 == 0 else Side.SELL
    start = HISTORY_START + index * 3 * INTERVAL
    mid = Decimal(60000 + index % 500)
    params = SmartOrderParameters(
        side=side,
        symbol="BTC-USD",
        symbol_type=symbol_type,
        amount=CHILD_QUANTITY * SLICES,
        duration=Period.parse(f"{SLICES - 1}MIN"),
        interval=Period.parse("1MIN"),
    )
    events: list[Event] = [OrderAccepted(order_id, "TWAP", (exchange,), params, start)]
    for slice_index in range(SLICES):
        at = start + slice_index * INTERVAL
        price = mid + (1 if side is Side.BUY else -1)
        child_id = f"{order_id}-{slice_index + 1}"
        events += [
            MarketSampled(
                order_id, slice_index, at - INTERVAL, at, Decimal("12.5"), mid * 12, mid, at
            ),
            ChildPlanned(
                order_id,
                child_id,
                slice_index,
                exchange,
                symbol_id,
                venue_symbol,
                side,
                CHILD_QUANTITY,
                price,
                at,
            ),
            ChildReported(
                order_id,
                child_id,
                ChildStatus.FILLED,
                CHILD_QUANTITY,
                price,
                CHILD_QUANTITY,
                price,
                None,
                at + timedelta(milliseconds=3),
            ),
        ]
    end = start + SLICES * INTERVAL
    last = start + (SLICES - 1) * INTERVAL
    events += [
        MarketSampled(order_id, SLICES, last, end, Decimal("4.2"), mid * 4, mid, end),
        StatusChanged(order_id, OrderStatus.COMPLETED, None, end),
    ]
    return events


def write_history(path: Path, orders: int) -> int:
    """Journal ``orders`` finished orders at ``path`` (a new journal); the events written."""
    return trio.run(_write, path, orders)


async def _write(path: Path, orders: int) -> int:
    journal = Journal(path)
    written = 0
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            for first in range(0, orders, ORDERS_PER_COMMIT):
                chunk = range(first, min(first + ORDERS_PER_COMMIT, orders))
                events = [event for index in chunk for event in finished_order(index)]
                await journal.append(*events)
                async with trio.open_nursery() as retiring:
                    for index in chunk:
                        retiring.start_soon(journal.retire, f"history-{index:06d}", "Completed")
                written += len(events)
            nursery.cancel_scope.cancel()
    finally:
        journal.close()
    return written
