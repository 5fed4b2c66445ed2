"""Smart orders with a limit price: a slice whose market is beyond the limit is skipped and the
order waits, what it did not trade is spread over the later slices, the schedule still ends the
order, the limit can be changed, and the risk gate's price collar still applies. No I/O."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sor_daemon.domain.events import SliceSkipped
from sor_daemon.domain.risk import RiskLimits, screen_routes
from sor_daemon.domain.router import VenueBook
from sor_daemon.domain.values import OrderStatus
from sor_daemon.protocol.messages import ParameterChanges, Side
from tests.support.orders import DERIBIT_BTC, POLICY, START, book, new_order, plan

SECOND = timedelta(seconds=1)


def deribit_at(ask: str, bid: str = "65000", seconds: int = 0) -> list[VenueBook]:
    at = START + seconds * SECOND
    return [VenueBook(DERIBIT_BTC, book(bid=bid, ask=ask, at=at))]


def test_a_slice_beyond_the_limit_trades_nothing_and_the_order_waits() -> None:
    order = new_order(limit_price="66000.0")  # the market offers at 66371
    slice_plan = order.plan_slice(START, deribit_at("66371"), None, POLICY)
    assert slice_plan.children == ()
    assert slice_plan.skipped == SliceSkipped(
        order.id, 0, "the market is beyond the limit price 66000", START
    )
    assert slice_plan.waiting == "waiting: the market is beyond the limit price 66000"


def test_a_sell_limit_above_the_bids_waits_too() -> None:
    order = new_order(limit_price="66400", side=Side.SELL)  # type: ignore[arg-type]
    skipped = plan(order, START, deribit_at(ask="66371", bid="66370"))
    assert isinstance(skipped, SliceSkipped)
    assert skipped.reason == "the market is beyond the limit price 66400"


def test_what_waiting_slices_did_not_trade_is_spread_over_the_later_ones() -> None:
    order = new_order(amount="10", limit_price="66000")  # 5 slices, one a second
    for second in (0, 1):
        skipped = plan(order, START + second * SECOND, deribit_at("66371", seconds=second))
        assert isinstance(skipped, SliceSkipped)
        order.apply(skipped)
    children = plan(order, START + 2 * SECOND, deribit_at("65990", seconds=2))
    assert isinstance(children, list)
    [child] = children
    # 10 over the 3 slices left, on the size grid; priced at the limit, not the tolerance's 66056
    assert (child.slice_index, child.quantity, child.price) == (2, Decimal("3.3"), Decimal(66000))


def test_an_order_whose_market_never_comes_inside_the_limit_expires_unfilled() -> None:
    order = new_order(amount="10", limit_price="66000")
    for second in range(5):
        skipped = plan(order, START + second * SECOND, deribit_at("66371", seconds=second))
        assert isinstance(skipped, SliceSkipped)
        order.apply(skipped)
    settled = order.settle(START + 5 * SECOND, max_consecutive_rejects=3)
    assert settled is not None
    assert settled.status is OrderStatus.EXPIRED
    assert settled.info == "the schedule ended with 10 of 10 unfilled"


def test_a_change_sets_or_moves_the_limit_and_keeps_the_rest() -> None:
    order = new_order(amount="10", duration="1MIN", interval="10SEC")
    instruments = [DERIBIT_BTC]
    event = order.change(ParameterChanges(limit_price=Decimal(66000)), instruments, START)
    order.apply(event)
    assert order.params.limit_price == Decimal(66000)
    order.apply(order.change(ParameterChanges(amount=Decimal(12)), instruments, START))
    assert (order.params.amount, order.params.limit_price) == (Decimal(12), Decimal(66000))
    order.apply(order.change(ParameterChanges(limit_price=Decimal(66500)), instruments, START))
    assert order.params.limit_price == Decimal(66500)
    assert [p.limit_price for _, p in order.parameter_updates] == [66000, 66000, 66500]


def test_the_price_collar_still_refuses_a_child_priced_at_the_limit() -> None:
    # the limit 66400 binds (the tolerance would allow 66437), but 66400 is 4 bps from the mid
    order = new_order(limit_price="66400")
    limits = RiskLimits(price_collar_bps=Decimal(2))
    slice_plan = order.plan_slice(
        START,
        deribit_at(ask="66371", bid="66370"),
        None,
        POLICY,
        lambda routes, mid: screen_routes(routes, mid, limits),
    )
    assert slice_plan.children == ()
    assert slice_plan.waiting is None
    assert slice_plan.risk is not None and "collar" in slice_plan.risk
    assert "child price 66400" in slice_plan.risk
