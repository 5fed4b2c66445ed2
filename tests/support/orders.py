"""Builders for domain tests: instruments, quotes, new smart orders, and a fill-everything venue."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sor_daemon.data import read_text
from sor_daemon.domain.events import ChildPlanned, OrderAccepted
from sor_daemon.domain.instruments import InstrumentTable
from sor_daemon.domain.router import VenueQuote
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import ChildReport, ChildStatus, Quote
from sor_daemon.protocol.messages import Side, SmartOrderParameters
from sor_daemon.protocol.periods import Period

START = datetime(2024, 7, 24, 9, 41, 40, tzinfo=UTC)
TABLE = InstrumentTable.from_toml(read_text("instruments.toml"))
DERIBIT_BTC = TABLE.find("DERIBIT", "BTC-USD", "perpetual")
assert DERIBIT_BTC is not None


def params(
    amount: str = "10",
    duration: str = "4SEC",
    interval: str = "1SEC",
    side: Side = Side.BUY,
    symbol: str = "BTC-USD",
    symbol_type: str = "perpetual",
) -> SmartOrderParameters:
    """Smart order parameters with test defaults."""
    return SmartOrderParameters(
        side=side,
        symbol=symbol,
        symbol_type=symbol_type,
        amount=Decimal(amount),
        duration=Period.parse(duration),
        interval=Period.parse(interval),
    )


def new_order(
    order_id: str = "order-1", exchanges: tuple[str, ...] = ("DERIBIT",), **kwargs: str
) -> SmartOrder:
    """A freshly accepted TWAP order starting at START."""
    return SmartOrder.accept(
        OrderAccepted(order_id, "TWAP", exchanges, params(**kwargs), START)  # type: ignore[arg-type]
    )


def quote(bid: str = "66370", ask: str = "66371", size: str = "50", at: datetime = START) -> Quote:
    """A top of book on DERIBIT's BTC perpetual."""
    return Quote(
        "DERIBIT_PERP_BTC_USD", Decimal(bid), Decimal(size), Decimal(ask), Decimal(size), at
    )


def deribit(at: datetime = START) -> list[VenueQuote]:
    """DERIBIT with a usable quote."""
    return [VenueQuote(DERIBIT_BTC, quote(at=at))]


def fill_report(
    child: ChildPlanned,
    qty: str | Decimal | None = None,
    *,
    lean: bool = False,
    status: ChildStatus | None = None,
) -> ChildReport:
    """The venue's report filling ``qty`` (default: all) of a child at its limit price."""
    cum = child.quantity if qty is None else Decimal(qty)
    final = status or (ChildStatus.FILLED if cum == child.quantity else ChildStatus.CANCELED)
    return ChildReport(
        child_id=child.child_id,
        status=final,
        cum_qty=cum,
        avg_px=None if lean else child.price,
        last_qty=None if lean else cum,
        last_px=None if lean else child.price,
    )
