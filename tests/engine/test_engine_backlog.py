"""A runner that falls behind reads what has arrived before it acts on a deadline that passed
meanwhile: a report waiting in its inbox is booked, not chased with a status request."""

from __future__ import annotations

from decimal import Decimal

import trio
import trio.testing

from sor_daemon.engine.settings import TradingSettings
from tests.support.rig import Rig, new


async def test_a_report_waiting_while_the_runner_was_busy_is_booked_not_chased(
    rig: Rig, mock_clock: trio.testing.MockClock
) -> None:
    rig.venue.silent = True
    order = await rig.engine.submit(new("10", "10SEC", "1SEC"))
    await trio.testing.wait_all_tasks_blocked()
    [(first, _)] = rig.venue.sent

    rig.market.busy = trio.Event()
    mock_clock.jump(1)  # slice 1 is due: the runner plans it and is held there
    await trio.testing.wait_all_tasks_blocked()
    rig.events.publish(rig.venue.executed[first.child_id])  # the first child's report
    await trio.testing.wait_all_tasks_blocked()
    mock_clock.jump(TradingSettings().reconcile_timeout.total_seconds())  # now overdue
    rig.market.busy.set()
    await trio.testing.wait_all_tasks_blocked()

    assert rig.venue.status_requests == []
    assert order.children[first.child_id].cum_qty == first.quantity
    assert order.filled == first.quantity > Decimal(0)
    assert len(rig.venue.sent) >= 2
