"""The engine on a mock clock: a one-day TWAP in milliseconds, its journal, cancel and update."""

from __future__ import annotations

import json
from decimal import Decimal

import attrs
import pytest
import trio
import trio.testing

from sor_daemon.domain.events import ChildReported
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import ChildStatus, OrderStatus
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import ParameterChanges
from sor_daemon.protocol.periods import Period
from tests.support.orders import START
from tests.support.rig import Rig, lose_session, new, replayed, restore_session, wait_until_over


async def test_a_one_day_twap_fires_every_slice_on_its_absolute_time(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    with rig.feed.subscribe() as subscription:
        order = await rig.engine.submit(new("28.9", "1DAY", "5MIN"))
        await wait_until_over(order)
        messages = [json.loads(m.text) for m in subscription.take()]
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal("28.9")
    assert len(rig.venue.sent) == 289
    for index, (child, sent_at) in enumerate(rig.venue.sent):
        assert child.quantity == Decimal("0.1")
        assert sent_at == order.schedule.due(index)
    types = [m["Type"] for m in messages]
    assert types[0] == "StatusChange" and messages[0]["Data"]["Status"] == "Running"
    assert types[-1] == "StatusChange" and messages[-1]["Data"]["Status"] == "Completed"
    assert types.count("TradeRequest") == 289 and types.count("TradeFill") == 289
    assert messages[-1]["Data"]["TotalFilled"] == pytest.approx(28.9)
    assert replayed(rig.journal, order.id) == order


async def test_acknowledgements_are_journaled_in_the_order_the_venue_sent_them(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    rig.venue.acknowledge = True
    order = await rig.engine.submit(new("0.4", "3MIN", "1MIN"))
    await wait_until_over(order)
    reported = [e.status for e in rig.journal.events_of(order.id) if isinstance(e, ChildReported)]
    assert len(rig.venue.sent) == 4
    assert reported == [ChildStatus.NEW, ChildStatus.FILLED] * 4
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal("0.4")
    assert replayed(rig.journal, order.id) == order


async def test_cancel_stops_the_schedule_and_is_recorded(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "1HRS", "1MIN"))
    await trio.sleep(10 * 60 + 1)
    await rig.engine.cancel(order.id)
    assert order.status is OrderStatus.CANCELLED
    assert order.status_info == "User requested cancel"
    filled = order.filled
    await trio.sleep(3600)
    assert order.filled == filled < Decimal(10)
    with pytest.raises(ProtocolError, match="already Cancelled"):
        await rig.engine.cancel(order.id)
    with pytest.raises(ProtocolError) as unknown:
        await rig.engine.cancel("no-such-order")
    assert unknown.value.reason == "ORDER_ID_NOT_FOUND"
    assert replayed(rig.journal, order.id) == order


async def test_an_update_replans_the_rest_of_the_schedule(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("6", "10MIN", "1MIN"))
    await trio.sleep(2 * 60 + 1)  # slices 0, 1, 2 traded
    assert len(order.children) == 3
    await rig.engine.change(
        order.id, ParameterChanges(amount=Decimal(20), interval=Period.parse("2MIN"))
    )
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal(20)
    due_after = [sent_at for child, sent_at in rig.venue.sent[3:]]
    assert [(t - START).total_seconds() for t in due_after] == [240, 360, 480, 600]
    assert len(order.parameter_updates) == 1
    with pytest.raises(ProtocolError, match="already Completed"):
        await rig.engine.change(order.id, ParameterChanges(amount=Decimal(30)))
    assert replayed(rig.journal, order.id) == order


async def test_refused_updates_change_nothing(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "10MIN", "1MIN"))
    await trio.sleep(3 * 60 + 1)
    before = attrs.evolve(order.params)
    with pytest.raises(ProtocolError, match="below"):
        await rig.engine.change(order.id, ParameterChanges(amount=Decimal("0.5")))
    with pytest.raises(ProtocolError, match="longer than duration"):
        await rig.engine.change(order.id, ParameterChanges(interval=Period.parse("1HRS")))
    with pytest.raises(ProtocolError, match="ends before now"):
        await rig.engine.change(order.id, ParameterChanges(duration=Period.parse("2MIN")))
    assert order.params == before
    assert order.parameter_updates == []


async def test_rejected_children_fail_the_order_with_the_ems_reason(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    rig.venue.reject_with = "insufficient funds"
    order = await rig.engine.submit(new("10", "10MIN", "1MIN"))
    await wait_until_over(order)
    assert order.status is OrderStatus.FAILED
    assert "insufficient funds" in (order.status_info or "")
    assert len(rig.venue.sent) == 3


async def test_a_duplicate_client_id_is_refused(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    await rig.engine.submit(new("10", "10MIN", "1MIN", order_id="same"))
    with pytest.raises(ProtocolError, match="exists"):
        await rig.engine.submit(new("10", "10MIN", "1MIN", order_id="same"))


async def test_a_lost_ems_session_pauses_the_order_until_it_is_back(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "10MIN", "1MIN"))
    await trio.sleep(61)
    await lose_session(rig)
    assert order.status is OrderStatus.RUNNING
    assert order.status_info == "paused: connection lost"
    await trio.sleep(25)
    assert len(rig.venue.sent) == 2
    restore_session(rig)
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal(10)
    sent_at = [(at - START).total_seconds() for _, at in rig.venue.sent]
    assert sent_at == [60 * k for k in range(11)]


async def test_a_session_down_past_the_grace_fails_the_order(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "10MIN", "1MIN"))
    await trio.sleep(61)
    await lose_session(rig)
    await wait_until_over(order)
    assert order.status is OrderStatus.FAILED
    assert order.status_info == "the EMS session was down for more than 30 seconds"
    assert len(rig.venue.sent) == 2
    assert replayed(rig.journal, order.id) == order


async def drop_a_report_and_reconnect(rig: Rig, order: SmartOrder, answer_status: bool) -> None:
    """The session goes down right after slice 1 left, taking its report with it."""
    await trio.sleep(59.5)
    rig.venue.silent = True
    await trio.sleep(1)  # slice 1 goes out, its fill is never reported
    await lose_session(rig)
    assert len(order.open_children) == 1
    rig.venue.silent = False
    rig.venue.answer_status = answer_status
    restore_session(rig)


async def test_after_a_reconnect_open_children_are_reconciled_before_trading(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "10MIN", "1MIN"))
    await drop_a_report_and_reconnect(rig, order, answer_status=True)
    await wait_until_over(order)
    assert rig.venue.status_requests == ["day-1-2"]
    assert order.status is OrderStatus.COMPLETED
    assert order.filled == Decimal(10)
    assert order.children["day-1-2"].cum_qty == Decimal("0.9")
    assert sum(child.quantity for child, _ in rig.venue.sent) == Decimal(10)


async def test_unanswered_status_requests_time_out_and_are_flagged(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "10MIN", "1MIN"))
    with rig.feed.subscribe() as subscription:
        await drop_a_report_and_reconnect(rig, order, answer_status=False)
        await trio.sleep(4)
        assert order.status_info == "reconciling 1 child orders with the EMS"
        assert len(rig.venue.sent) == 2  # nothing new while the child's fate is unknown
        await trio.sleep(2)
        queued = subscription.take()
        infos = [json.loads(message.text)["Data"].get("StatusInfo") for message in queued]
    assert infos[-1] == (
        "1 child orders presumed done with their last CumQty: "
        "the EMS did not answer status requests"
    )
    child = order.children["day-1-2"]
    assert child.status.value == "CANCELED" and child.cum_qty == 0
    await wait_until_over(order)
    # the venue did execute the unreported child: the books show 0.9 less than it traded
    assert order.filled == Decimal(10)
    assert sum(child.quantity for child, _ in rig.venue.sent) == Decimal("10.9")
    assert replayed(rig.journal, order.id) == order


async def test_a_child_whose_report_was_lost_is_asked_about_before_trading_on(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "10MIN", "1MIN"))
    await trio.sleep(59.5)
    rig.venue.silent = True
    await trio.sleep(1)  # slice 1 is executed, but its report never arrives
    rig.venue.silent = False
    assert [child.id for child in order.open_children] == ["day-1-2"]
    await trio.sleep(5)  # reconcile_timeout: the IOC child should have been answered by now
    assert rig.venue.status_requests == ["day-1-2"]
    assert order.children["day-1-2"].cum_qty == Decimal("0.9")  # the EMS's answer is booked
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    assert sum(child.quantity for child, _ in rig.venue.sent) == Decimal(10)  # nothing doubled
