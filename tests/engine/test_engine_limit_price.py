"""Limit prices in the engine, on a mock clock with a paper venue: slices wait while the market
is beyond the limit (saying so once), the order trades what they missed once the market comes
inside it or the limit is moved, and it expires when the market never does."""

from __future__ import annotations

from decimal import Decimal

import trio
import trio.testing

from sor_daemon.domain.events import SliceSkipped
from sor_daemon.domain.values import OrderStatus
from sor_daemon.protocol.messages import ParameterChanges
from tests.support.rig import Rig, infos, new, replayed, wait_until_over

WAITING = "waiting: the market is beyond the limit price 66000"


async def test_slices_wait_beyond_the_limit_and_trade_once_the_market_comes_inside(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    # the paper market offers at 66371: a buy limited to 66000 cannot trade
    order = await rig.engine.submit(new("10", "4MIN", "1MIN", limit_price="66000"))
    await trio.sleep(90)  # slices 0 and 1 come due beyond the limit
    assert order.children == {}
    assert (order.status, order.status_info) == (OrderStatus.RUNNING, WAITING)
    rig.market.quote(bid="65980", ask="65990")
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    children = list(order.children.values())
    # what slices 0 and 1 missed is spread over the three left: 10/3, 6.7/2, then the rest
    assert [child.slice_index for child in children] == [2, 3, 4]
    assert [child.quantity for child in children] == [
        Decimal("3.3"),
        Decimal("3.3"),
        Decimal("3.4"),
    ]
    assert {child.price for child in children} == {Decimal(66000)}  # capped, not 66055.99
    assert infos(rig, order.id) == [WAITING, None, None]  # said once; cleared by the trade
    assert replayed(rig.journal, order.id) == order


async def test_moving_the_limit_lets_the_next_slice_trade(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "4MIN", "1MIN", limit_price="66000"))
    await trio.sleep(30)
    assert order.status_info == WAITING
    await rig.engine.change(order.id, ParameterChanges(limit_price=Decimal(66400)))
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    assert [child.slice_index for child in order.children.values()] == [1, 2, 3, 4]
    assert {child.price for child in order.children.values()} == {Decimal(66400)}


async def test_an_order_whose_market_stays_beyond_the_limit_expires_unfilled(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "4MIN", "1MIN", limit_price="66000"))
    await wait_until_over(order)
    assert order.children == {}
    assert order.status is OrderStatus.EXPIRED
    assert order.status_info == "the schedule ended with 10 of 10 unfilled"
    skips = [
        event.reason
        for event in rig.journal.replay()
        if isinstance(event, SliceSkipped) and event.order_id == order.id
    ]
    assert skips == ["the market is beyond the limit price 66000"] * 5
    assert infos(rig, order.id) == [WAITING, "the schedule ended with 10 of 10 unfilled"]
