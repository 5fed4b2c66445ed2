"""Builders for domain tests: instruments, quotes, new smart orders, and a fill-everything venue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from sor_daemon.data import read_text
from sor_daemon.domain.events import ChildPlanned, OrderAccepted, SliceSkipped
from sor_daemon.domain.instruments import InstrumentTable
from sor_daemon.domain.market import BookView, MarketActivity, PriceLevel
from sor_daemon.domain.router import RoutingPolicy, VenueBook
from sor_daemon.domain.smart_order import SlicePolicy, SmartOrder
from sor_daemon.domain.values import ChildReport, ChildStatus
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
    order_id: str = "order-1",
    exchanges: tuple[str, ...] = ("DERIBIT",),
    algorithm: str = "TWAP",
    safety_threshold: str | None = None,
    limit_price: str | None = None,
    **kwargs: str,
) -> SmartOrder:
    """A freshly accepted order (TWAP unless told) starting at START."""
    parameters = params(**kwargs)  # type: ignore[arg-type]
    if safety_threshold is not None:
        parameters = attrs.evolve(parameters, safety_threshold=Decimal(safety_threshold))
    if limit_price is not None:
        parameters = attrs.evolve(parameters, limit_price=Decimal(limit_price))
    return SmartOrder.accept(OrderAccepted(order_id, algorithm, exchanges, parameters, START))


POLICY = SlicePolicy(RoutingPolicy(tolerance_bps=Decimal(10), max_book_age=timedelta(seconds=10)))


def book(
    bid: str = "66370",
    ask: str = "66371",
    size: str = "50",
    at: datetime = START,
    symbol_id: str = "DERIBIT_PERP_BTC_USD",
) -> BookView:
    """A one-level book (DERIBIT's BTC perpetual by default)."""
    return BookView(
        symbol_id,
        (PriceLevel(Decimal(bid), Decimal(size)),),
        (PriceLevel(Decimal(ask), Decimal(size)),),
        at,
    )


def deribit(at: datetime = START) -> list[VenueBook]:
    """DERIBIT with a fresh, deep enough book."""
    return [VenueBook(DERIBIT_BTC, book(at=at))]


def plan(
    order: SmartOrder,
    now: datetime,
    venues: list[VenueBook] | None = None,
    activity: MarketActivity | None = None,
    policy: SlicePolicy = POLICY,
) -> list[ChildPlanned] | SliceSkipped:
    """Plan the slice due at ``now`` and apply its market sample; the children (or the skip) are
    returned for the test to apply."""
    result = order.plan_slice(now, deribit(now) if venues is None else venues, activity, policy)
    order.apply(result.sample)
    return result.skipped if result.skipped is not None else list(result.children)


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
