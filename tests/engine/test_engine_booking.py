"""A runner books a fill without waiting for its commit, and lets it take effect before it acts
on anything else: a command queued right behind the fill is decided on the order with it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import trio
import trio.testing

from sor_daemon.domain.events import ChildReported, StatusChanged
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import OrderStatus
from sor_daemon.protocol.errors import ProtocolError
from tests.support.rig import Rig, new, replayed


async def _last_child_executed_unreported(rig: Rig) -> tuple[SmartOrder, str]:
    """A TWAP of two slices of 5, the first filled and reported; the second executed by the
    venue without a report. The order and that child's id."""
    order = await rig.engine.submit(new("10", "1MIN", "1MIN"))
    while order.filled < Decimal(5):
        await trio.sleep(1)
    rig.venue.silent = True
    while len(rig.venue.sent) < 2:
        await trio.sleep(1)
    return order, rig.venue.sent[-1][0].child_id


async def test_a_cancel_right_behind_the_fill_that_completes_the_order_is_refused(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order, child_id = await _last_child_executed_unreported(rig)
    rig.events.publish(rig.venue.executed[child_id])  # in the runner's inbox; the cancel next
    with pytest.raises(ProtocolError, match="already Completed"):
        await rig.engine.cancel(order.id)
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal(10)
    assert replayed(rig.journal, order.id) == order


async def test_a_cancel_right_behind_a_fill_is_announced_after_it_with_its_quantity(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    rig.venue.silent = True
    with rig.feed.subscribe() as subscription:
        order = await rig.engine.submit(new("10", "1MIN", "1MIN"))
        while not rig.venue.sent:
            await trio.sleep(1)
        rig.events.publish(rig.venue.executed[rig.venue.sent[0][0].child_id])
        await rig.engine.cancel(order.id)
        messages = [json.loads(m.text) for m in subscription.take()]
    assert order.status is OrderStatus.CANCELLED
    assert order.filled == Decimal(5)
    types = [m["Type"] for m in messages]
    assert types[-2:] == ["TradeFill", "StatusChange"]
    assert messages[-1]["Data"]["Status"] == "Cancelled"
    assert messages[-1]["Data"]["TotalFilled"] == pytest.approx(5)
    journaled = rig.journal.events_of(order.id)
    assert isinstance(journaled[-2], ChildReported) and isinstance(journaled[-1], StatusChanged)
    assert replayed(rig.journal, order.id) == order
