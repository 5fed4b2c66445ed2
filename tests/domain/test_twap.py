"""TWAP slices, schedule, rounding, catch-up and the never-overfill rule, with no I/O."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from sor_daemon.domain.events import ChildPlanned, SliceSkipped
from sor_daemon.domain.market import BookView
from sor_daemon.domain.router import VenueBook
from sor_daemon.domain.schedule import Schedule
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import OrderStatus
from sor_daemon.protocol.messages import Side
from sor_daemon.protocol.periods import Period
from tests.support.orders import (
    DERIBIT_BTC,
    POLICY,
    START,
    TABLE,
    deribit,
    fill_report,
    new_order,
    plan,
)


def trade_slice(order: SmartOrder, index: int, fill: str | None = None) -> list[ChildPlanned]:
    """Plan the slice due at ``index``, apply it, and fill each child (fully by default)."""
    now = order.schedule.due(index)
    planned = plan(order, now)
    if isinstance(planned, SliceSkipped):
        order.apply(planned)
        return []
    for child in planned:
        order.apply(child)
        event = order.interpret(fill_report(child, fill), now)
        assert event is not None
        order.apply(event)
    return planned


def run_to_end(order: SmartOrder) -> list[Decimal]:
    sizes = []
    while (due := order.next_due()) is not None:
        index = order.schedule.latest_due(due)
        sizes += [child.quantity for child in trade_slice(order, index)]
        settled = order.settle(due, 3)
        if settled is not None:
            order.apply(settled)
    return sizes


@pytest.mark.parametrize(
    ("duration", "interval", "iterations"),
    [
        ("4SEC", "1SEC", 5),
        ("1MIN", "5SEC", 13),
        ("5MIN", "30SEC", 11),
        ("1DAY", "1HRS", 25),
        ("10SEC", "3SEC", 4),
    ],
)
def test_iteration_count_is_duration_over_interval_plus_one(
    duration: str, interval: str, iterations: int
) -> None:
    schedule = Schedule.plan(START, Period.parse(duration), Period.parse(interval))
    assert schedule.iterations == iterations
    assert schedule.due(0) == START
    assert schedule.end == START + (iterations - 1) * Period.parse(interval).timedelta


@pytest.mark.parametrize(
    ("amount", "duration", "interval", "expected"),
    [
        ("10", "4SEC", "1SEC", ["2"] * 5),
        ("29", "1MIN", "5SEC", ["2.2"] * 9 + ["2.3"] * 4),
        ("1", "4SEC", "1SEC", ["0.2"] * 5),
        ("20", "1MIN", "10SEC", ["2.8", "2.8", "2.8", "2.9", "2.9", "2.9", "2.9"]),
    ],
)
def test_slice_sizes_sum_to_the_amount_on_the_size_grid(
    amount: str, duration: str, interval: str, expected: list[str]
) -> None:
    order = new_order(amount=amount, duration=duration, interval=interval)
    sizes = run_to_end(order)
    assert sizes == [Decimal(size) for size in expected]
    assert sum(sizes) == Decimal(amount)
    assert all(DERIBIT_BTC.is_size_multiple(size) for size in sizes)
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal(amount)


def test_slices_too_small_for_the_venue_are_skipped_and_caught_up() -> None:
    order = new_order(amount="0.3", duration="5SEC", interval="1SEC")
    sizes = run_to_end(order)
    assert sizes == [Decimal("0.1")] * 3
    assert order.status is OrderStatus.COMPLETED


def test_children_are_ioc_limits_at_the_touch_plus_tolerance_on_the_price_grid() -> None:
    buy = new_order()
    [child] = plan(buy, START)  # type: ignore[misc]
    assert child.price == Decimal("66437.0")  # 66371 * 1.001 = 66437.371, rounded down to 0.5
    assert DERIBIT_BTC.is_price_multiple(child.price)
    sell = new_order(side=Side.SELL)
    [child] = plan(sell, START)  # type: ignore[misc]
    assert child.price == Decimal("66304.0")  # 66370 * 0.999 = 66303.63, rounded up to 0.5
    assert child.side is Side.SELL
    assert child.child_id == "order-1-1"
    assert child.symbol_id_exchange == "BTC-PERPETUAL"


def test_a_partial_fill_is_caught_up_by_later_slices() -> None:
    order = new_order(amount="10")
    trade_slice(order, 0, fill="0.5")
    assert order.filled == Decimal("0.5")
    [child] = trade_slice(order, 1)
    assert child.quantity == Decimal("2.3")  # 9.5 left over 4 slices = 2.375 -> 2.3
    sizes = run_to_end(order)
    assert order.filled == Decimal("10")
    assert sizes[-1] == Decimal("10") - Decimal("0.5") - Decimal("2.3") - sum(sizes[:-1])


def test_open_children_count_as_spent_so_nothing_can_overfill() -> None:
    order = new_order(amount="10")
    [first] = plan(order, START)  # type: ignore[misc]
    order.apply(first)
    last = order.schedule.due(4)
    [second] = plan(order, last)  # type: ignore[misc]
    assert second.quantity == Decimal(8)  # the last slice: all but the 2 still open
    order.apply(second)
    skipped = plan(order, last)
    assert isinstance(skipped, SliceSkipped)
    assert order.unplanned == 0


def test_a_late_order_merges_missed_slices_into_the_newest_due_one() -> None:
    order = new_order(amount="10", duration="4SEC", interval="1SEC")
    late = order.schedule.due(3) + timedelta(milliseconds=300)
    [child] = plan(order, late)  # type: ignore[misc]
    assert child.slice_index == 3
    assert child.quantity == Decimal(5)  # 10 over the 2 slices left
    order.apply(child)
    assert order.next_due() == order.schedule.due(4)


def test_duplicated_and_stale_reports_change_nothing() -> None:
    order = new_order()
    [child] = plan(order, START)  # type: ignore[misc]
    order.apply(child)
    report = fill_report(child)
    event = order.interpret(report, START)
    assert event is not None
    fill = order.apply(event)
    assert fill is not None and fill.quantity == Decimal(2)
    assert order.interpret(report, START) is None
    assert order.interpret(fill_report(child, "1"), START) is None
    assert order.filled == Decimal(2)
    assert len(order.fills) == 1


def test_fills_are_derived_from_cumqty_and_avgpx_when_lastpx_is_missing() -> None:
    order = new_order()
    [child] = plan(order, START)  # type: ignore[misc]
    order.apply(child)
    partial = fill_report(child, "0.5", lean=True, status=None)
    partial = partial.__class__(
        child_id=child.child_id,
        status=partial.status.PARTIALLY_FILLED,
        cum_qty=Decimal("0.5"),
        avg_px=Decimal("66371"),
    )
    first = order.apply(order.interpret(partial, START))  # type: ignore[arg-type]
    final = partial.__class__(
        child_id=child.child_id,
        status=partial.status.FILLED,
        cum_qty=Decimal("2"),
        avg_px=Decimal("66372.5"),
    )
    second = order.apply(order.interpret(final, START))  # type: ignore[arg-type]
    assert first is not None and first.price == Decimal("66371")
    assert second is not None and second.quantity == Decimal("1.5")
    assert second.price == Decimal("66373")  # (66372.5 * 2 - 66371 * 0.5) / 1.5
    no_price = fill_report(child, lean=True)
    other = new_order(order_id="order-2")
    [child2] = plan(other, START)  # type: ignore[misc]
    other.apply(child2)
    lean = no_price.__class__(child_id=child2.child_id, status=no_price.status, cum_qty=Decimal(2))
    booked = other.apply(other.interpret(lean, START))  # type: ignore[arg-type]
    assert booked is not None and booked.price == child2.price


def test_a_venue_overfill_is_booked_truthfully() -> None:
    order = new_order(amount="2", duration="1SEC", interval="1SEC")
    [child] = plan(order, START)  # type: ignore[misc]
    order.apply(child)
    order.apply(order.interpret(fill_report(child), START))  # type: ignore[arg-type]
    more = fill_report(child, "2.5")
    event = order.interpret(more, START)
    assert event is not None
    order.apply(event)
    settled = order.settle(START, 3)
    assert settled is not None and settled.status is OrderStatus.COMPLETED
    assert settled.info is not None and "overfilled" in settled.info
    assert order.filled == Decimal("2.5")


def test_no_usable_book_means_waiting_not_trading() -> None:
    order = new_order()
    unknown = [VenueBook(DERIBIT_BTC, None)]
    assert order.waiting_for(START, unknown, POLICY) == (
        "no usable market data: DERIBIT: no market data yet"
    )
    empty = [VenueBook(DERIBIT_BTC, BookView("DERIBIT_PERP_BTC_USD", (), (), START))]
    assert order.waiting_for(START, empty, POLICY) == "no usable market data: DERIBIT: no offers"
    assert order.waiting_for(START, deribit(), POLICY) is None
    assert isinstance(plan(order, START, empty), SliceSkipped)


def test_three_rejected_children_in_a_row_fail_the_order() -> None:
    order = new_order(amount="10", duration="10SEC", interval="1SEC")
    for index in range(3):
        now = order.schedule.due(index)
        [child] = plan(order, now)  # type: ignore[misc]
        order.apply(child)
        rejected = fill_report(child, "0")
        rejected = rejected.__class__(
            child_id=child.child_id,
            status=rejected.status.REJECTED,
            cum_qty=Decimal(0),
            text="insufficient funds",
        )
        order.apply(order.interpret(rejected, now))  # type: ignore[arg-type]
        settled = order.settle(now, 3)
    assert settled is not None
    assert settled.status is OrderStatus.FAILED
    assert "insufficient funds" in (settled.info or "")


def test_amount_must_fit_every_listed_venue() -> None:
    from sor_daemon.domain.smart_order import check_amount_tradable
    from sor_daemon.protocol.errors import ProtocolError

    with pytest.raises(ProtocolError, match="size increment"):
        check_amount_tradable(Decimal("1.05"), [DERIBIT_BTC])
    with pytest.raises(ProtocolError, match="minimum size"):
        check_amount_tradable(Decimal("0.00001"), [TABLE.find("KRAKEN", "BTC-USD", "spot")])
