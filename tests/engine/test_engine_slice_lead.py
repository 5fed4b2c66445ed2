"""Slices planned ahead: journaled ``slice_lead`` before they are due, sent when due, and taken
back unsent when something changes the order in between (mock clock, paper venue)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import trio
import trio.testing

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import ChildStatus, OrderStatus
from sor_daemon.engine.settings import TradingSettings
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import ParameterChanges
from tests.support.orders import START
from tests.support.rig import Rig, lose_session, new, replayed, restore_session, wait_until_over

LEAD = TradingSettings().slice_lead
"""The rig's lead: the default."""
MINUTE = timedelta(minutes=1)


async def sleep_into_the_lead(rig: Rig, order: SmartOrder, slice_index: int) -> None:
    """Sleep until slice ``slice_index`` of ``order`` is staged, and not yet due."""
    moment = order.schedule.due(slice_index) - LEAD / 2
    await trio.sleep_until(rig.engine.services.clock.deadline(moment))


def planned_at(rig: Rig, order: SmartOrder) -> list[timedelta]:
    """When each child was planned, from the journal, as offsets from START."""
    events = rig.journal.events_of(order.id)
    return [event.at - START for event in events if isinstance(event, ChildPlanned)]


async def with_slice_1_staged(rig: Rig) -> SmartOrder:
    """A TWAP of 0.4 over three one-minute slices (the first sent on acceptance), its slice 1
    staged and not yet due."""
    order = await rig.engine.submit(new("0.4", "3MIN", "1MIN"))
    await sleep_into_the_lead(rig, order, 1)
    return order


async def ends_complete(rig: Rig, order: SmartOrder, amount: str) -> None:
    """Wait for ``order`` to end: completed with ``amount`` filled, and as the journal has it."""
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED and order.filled == Decimal(amount)
    assert replayed(rig.journal, order.id) == order


def staged_child_is_back(order: SmartOrder, child_id: str, why: str) -> bool:
    child = order.children[child_id]
    return (
        child.status is ChildStatus.CANCELED
        and child.cum_qty == 0
        and child.text == f"not sent: {why} before it was due"
    )


async def test_a_slice_is_journaled_its_lead_ahead_and_sent_when_due(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("0.3", "2MIN", "1MIN"))
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    # Slice 0 goes on acceptance; each later one is planned its lead ahead and leaves when due.
    assert planned_at(rig, order) == [timedelta(0), MINUTE - LEAD, 2 * MINUTE - LEAD]
    assert [at - START for _, at in rig.venue.sent] == [timedelta(0), MINUTE, 2 * MINUTE]
    assert replayed(rig.journal, order.id) == order


class RunnerSteps(trio.abc.Instrument):
    """Counts the steps of the runners' tasks: how often a runner was woken."""

    def __init__(self) -> None:
        self.steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if task.name.endswith("Engine._run_runner"):
            self.steps += 1


async def test_a_runner_is_woken_once_a_slice(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    """To plan it: its commit, its sending, the venue's acknowledgement and its fill all take
    effect without the runner's task."""
    rig.venue.acknowledge = True
    order = await rig.engine.submit(new("1.1", "10MIN", "1MIN"))
    await sleep_into_the_lead(rig, order, 2)
    runner_steps = RunnerSteps()
    trio.lowlevel.add_instrument(runner_steps)
    try:
        await sleep_into_the_lead(rig, order, 8)
    finally:
        trio.lowlevel.remove_instrument(runner_steps)
    assert len(rig.venue.sent) == 8 and order.filled == Decimal("0.8")
    assert len(order.children) == 9  # slice 8 planned, not yet due
    assert runner_steps.steps == 6  # to plan slices 3 to 8
    assert replayed(rig.journal, order.id) == order


async def test_a_staged_slice_waits_for_its_due_time(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("0.3", "2MIN", "1MIN"))
    await sleep_into_the_lead(rig, order, 1)
    assert len(order.children) == 2 and len(rig.venue.sent) == 1
    assert order.open_children[0].status is ChildStatus.PENDING_NEW
    await trio.sleep(LEAD.total_seconds())
    assert len(rig.venue.sent) == 2 and not order.open_children


async def test_a_cancel_takes_the_staged_slice_back_unsent(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("0.3", "2MIN", "1MIN"))
    await sleep_into_the_lead(rig, order, 1)
    await rig.engine.cancel(order.id)
    await trio.sleep(5)
    assert len(rig.venue.sent) == 1
    assert staged_child_is_back(order, "day-1-2", "the smart order was cancelled")
    assert order.status is OrderStatus.CANCELLED and order.filled == Decimal("0.1")
    assert not order.open_children
    assert replayed(rig.journal, order.id) == order


async def test_a_halt_takes_the_staged_slice_back_and_later_slices_catch_it_up(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await with_slice_1_staged(rig)
    await rig.engine.halt("desk says stop")
    await trio.sleep(30)
    assert len(rig.venue.sent) == 1
    assert staged_child_is_back(order, "day-1-2", "trading was halted")
    await rig.engine.resume()
    await ends_complete(rig, order, "0.4")


async def test_a_lost_session_takes_the_staged_slice_back(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await with_slice_1_staged(rig)
    await lose_session(rig)
    assert staged_child_is_back(order, "day-1-2", "the EMS session went down")
    restore_session(rig)
    await ends_complete(rig, order, "0.4")
    # No status request for the child that never left: it was known to be back.
    assert "day-1-2" not in rig.venue.status_requests


async def test_a_refused_change_leaves_the_staged_slice_and_an_accepted_one_takes_it_back(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await with_slice_1_staged(rig)
    with pytest.raises(ProtocolError):
        await rig.engine.change(order.id, ParameterChanges(amount=Decimal("0.05")))
    await trio.sleep(LEAD.total_seconds())
    assert [child.child_id for child, _ in rig.venue.sent] == ["day-1-1", "day-1-2"]
    await sleep_into_the_lead(rig, order, 2)
    await rig.engine.change(order.id, ParameterChanges(amount=Decimal("0.6")))
    assert staged_child_is_back(order, "day-1-3", "the smart order was changed")
    await ends_complete(rig, order, "0.6")
    assert "day-1-3" not in [child.child_id for child, _ in rig.venue.sent]


async def test_a_staged_slice_the_session_refuses_when_due_ends_unsent(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await with_slice_1_staged(rig)
    rig.venue.is_up = False  # the session refuses sends before the runners hear it is down
    await trio.sleep(LEAD.total_seconds())
    child = order.children["day-1-2"]
    assert child.status is ChildStatus.CANCELED and child.cum_qty == 0
    assert child.text == "not sent: the EMS session is down"
    rig.venue.is_up = True
    await ends_complete(rig, order, "0.4")


async def test_a_slice_due_while_halted_waits_for_its_runner_to_take_it_back(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await with_slice_1_staged(rig)
    # The kill switch is on before the runner has heard of it (its Halt still on the way).
    rig.engine.services.risk.halted = "desk says stop"
    await trio.sleep(LEAD.total_seconds())
    assert len(rig.venue.sent) == 1
    assert order.children["day-1-2"].status is ChildStatus.PENDING_NEW
    await rig.engine.halt("desk says stop")
    await trio.sleep(1)
    assert staged_child_is_back(order, "day-1-2", "trading was halted")
    await rig.engine.resume()
    await ends_complete(rig, order, "0.4")
