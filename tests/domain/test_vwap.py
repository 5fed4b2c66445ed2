"""VWAP slices follow the interval volume, capped by the even share of what is left; how a
quiet market finishes. No I/O."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest

from sor_daemon.domain.events import ChildPlanned, SliceSkipped
from sor_daemon.domain.market import MarketActivity
from sor_daemon.domain.smart_order import SlicePolicy, SmartOrder
from sor_daemon.domain.values import OrderStatus
from sor_daemon.domain.vwap import vwap_slice_target
from tests.support.orders import POLICY, deribit, fill_report, new_order, plan


def activity(order: SmartOrder, index: int, volume: str) -> MarketActivity:
    """The market traded ``volume`` in the interval before slice ``index``."""
    due = order.schedule.due(index)
    return MarketActivity(
        due - order.schedule.interval, due, Decimal(volume), Decimal(volume) * 66370
    )


def run(
    order: SmartOrder, volumes: list[str | None], policy: SlicePolicy = POLICY
) -> list[Decimal]:
    """Trade every slice against the given interval volumes, filling children in full."""
    sizes = []
    for index, volume in enumerate(volumes):
        now = order.schedule.due(index)
        market = None if volume is None else activity(order, index, volume)
        planned = plan(order, now, activity=market, policy=policy)
        if isinstance(planned, SliceSkipped):
            order.apply(planned)
            sizes.append(Decimal(0))
        else:
            sizes.append(sum(child.quantity for child in planned))
            fill(order, planned)
        settled = order.settle(now, 3)
        if settled is not None:
            order.apply(settled)
    return sizes


def fill(order: SmartOrder, children: list[ChildPlanned]) -> None:
    for child in children:
        order.apply(child)
        event = order.interpret(fill_report(child), child.at)
        assert event is not None
        order.apply(event)


def vwap(amount: str = "10", **kwargs: str) -> SmartOrder:
    return new_order(algorithm="VWAP", amount=amount, duration="4SEC", interval="1SEC", **kwargs)


@pytest.mark.parametrize(
    ("volume", "remaining", "left", "complete", "expected"),
    [
        ("5", "10", 5, False, "0.5"),  # the volume binds: 10% of 5
        ("500", "10", 5, False, "2"),  # the even share binds: 10 / 5
        ("500", "1", 1, False, "1"),  # never more than what is left
        ("0", "10", 3, False, "0"),  # a silent market trades nothing
        ("1", "7", 1, False, "0.1"),  # the last slice still follows volume...
        ("1", "7", 1, True, "7"),  # ...unless the order must complete at its end
        ("5", "0", 3, True, "0"),
    ],
)
def test_the_slice_is_the_smaller_of_volume_share_and_even_share(
    volume: str, remaining: str, left: int, complete: bool, expected: str
) -> None:
    target = vwap_slice_target(
        Decimal(remaining), left, Decimal(volume), Decimal("0.1"), complete_at_end=complete
    )
    assert target == Decimal(expected)


def test_slices_follow_the_volume_series_and_complete() -> None:
    order = vwap(safety_threshold="0.1")
    sizes = run(order, ["5", "20", "8", "40", "100"])
    # 0.5 of 10 over 5; then min(2, 9.5/4); min(0.8, 7.5/3); min(4, 6.7/2 -> 3.3); the rest
    assert sizes == [Decimal(s) for s in ("0.5", "2.0", "0.8", "3.3", "3.4")]
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal(10)


def test_the_daemon_default_threshold_applies_when_the_order_names_none() -> None:
    order = vwap()
    policy = attrs.evolve(POLICY, default_safety_threshold=Decimal("0.2"))
    assert run(order, ["5"], policy) == [Decimal(1)]


def test_a_quiet_market_leaves_a_remainder_and_the_order_expires_saying_how_much() -> None:
    order = vwap(safety_threshold="0.1")
    sizes = run(order, ["5", "5", "5", "5", "5"])
    assert sizes == [Decimal("0.5")] * 5
    assert order.status is OrderStatus.EXPIRED
    assert order.status_info == "the schedule ended with 7.5 of 10 unfilled"


def test_complete_at_end_trades_the_remainder_in_the_last_slice() -> None:
    order = vwap(safety_threshold="0.1")
    policy = attrs.evolve(POLICY, complete_at_end=True)
    sizes = run(order, ["5", "5", "5", "5", "5"], policy)
    assert sizes == [Decimal("0.5")] * 4 + [Decimal(8)]
    assert order.status is OrderStatus.COMPLETED


def test_an_unknown_volume_skips_the_slice_and_says_why() -> None:
    order = vwap()
    skipped = plan(order, order.schedule.due(0))
    assert isinstance(skipped, SliceSkipped)
    assert skipped.reason == "the market volume of the last interval is unknown"
    assert order.samples[-1].volume is None


def test_open_children_count_as_spent_so_vwap_cannot_overfill() -> None:
    order = vwap(safety_threshold="1")
    [first] = plan(order, order.schedule.due(0), activity=activity(order, 0, "1000"))  # type: ignore[misc]
    order.apply(first)  # still open at the venue
    last = order.schedule.due(4)
    [second] = plan(order, last, activity=activity(order, 4, "1000"))  # type: ignore[misc]
    assert first.quantity + second.quantity == Decimal(10)


def test_the_sample_records_the_interval_before_the_slice() -> None:
    order = vwap()
    now = order.schedule.due(2) + timedelta(milliseconds=40)
    plan(order, now, activity=activity(order, 2, "30"))
    sample = order.samples[-1]
    assert (sample.slice_index, sample.start, sample.end) == (
        2,
        order.schedule.due(1),
        order.schedule.due(2),
    )
    assert sample.volume == Decimal(30)
    assert sample.mid == Decimal("66370.5")


def test_the_closing_sample_covers_the_life_after_the_last_slice() -> None:
    order = vwap()
    plan(order, order.schedule.due(0), activity=activity(order, 0, "10"))
    now = order.schedule.due(0) + timedelta(seconds=3)
    traded = MarketActivity(order.schedule.due(0), now, Decimal(30), Decimal(30) * 66370)
    closing = order.close_sample(now, traded, deribit(now))
    assert (closing.slice_index, closing.start, closing.end) == (5, order.schedule.due(0), now)
    assert closing.volume == Decimal(30) and closing.mid == Decimal("66370.5")
