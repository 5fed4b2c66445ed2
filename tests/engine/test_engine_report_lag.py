"""An EMS that answers late is waited for, not chased: a child is overdue only
``reconcile_timeout`` past how late the EMS answers now. A report lost while the others come
on time is still asked about after ``reconcile_timeout``."""

from __future__ import annotations

from datetime import datetime, timedelta

import trio
import trio.testing

from sor_daemon.engine.settings import TradingSettings
from tests.support.orders import START
from tests.support.rig import Rig, new

TIMEOUT = TradingSettings().reconcile_timeout


async def run_with_an_ems_answering(
    rig: Rig, mock_clock: trio.testing.MockClock, seconds: int, late: timedelta, later: timedelta
) -> None:
    """Let ``seconds`` pass, a second at a time, the EMS answering each child ``late`` after it
    was sent in the first five seconds and ``later`` after that."""
    answered: set[str] = set()
    for _ in range(seconds):
        mock_clock.jump(1)
        await trio.testing.wait_all_tasks_blocked()
        now: datetime = rig.engine.services.clock.now()
        for child, sent_at in rig.venue.sent:
            delay = late if sent_at < START + timedelta(seconds=5) else later
            if child.child_id not in answered and now - sent_at >= delay:
                rig.events.publish(rig.venue.executed[child.child_id])
                answered.add(child.child_id)
        await trio.testing.wait_all_tasks_blocked()


async def test_an_ems_that_falls_behind_is_waited_for_not_asked_about_every_child(
    rig: Rig, mock_clock: trio.testing.MockClock
) -> None:
    """The EMS answers 3 s late, then 7 s late: past the 5 s timeout, but within it of how late
    it answered before. Nothing is asked, every child's fill is booked, the order completes."""
    rig.venue.silent = True
    order = await rig.engine.submit(new("10", "20SEC", "1SEC"))
    await run_with_an_ems_answering(rig, mock_clock, 30, timedelta(seconds=3), timedelta(seconds=7))

    assert rig.venue.status_requests == []
    assert order.filled == sum(child.quantity for child, _ in rig.venue.sent) > 0
    assert order.status.value == "Completed"


async def test_a_report_lost_while_the_others_come_on_time_is_asked_about(
    rig: Rig, mock_clock: trio.testing.MockClock
) -> None:
    """The EMS answers every child at once but the first: that one is asked about when the
    timeout has passed."""
    rig.venue.silent = True
    await rig.engine.submit(new("10", "20SEC", "1SEC"))
    await trio.testing.wait_all_tasks_blocked()
    [(lost, _)] = rig.venue.sent
    rig.venue.executed.pop(lost.child_id)
    rig.venue.answer_status = False
    for _ in range(int(TIMEOUT.total_seconds())):
        assert rig.venue.status_requests == []
        mock_clock.jump(1)
        await trio.testing.wait_all_tasks_blocked()
        for child, _ in rig.venue.sent:
            report = rig.venue.executed.pop(child.child_id, None)
            if report is not None:
                rig.events.publish(report)
        await trio.testing.wait_all_tasks_blocked()
    assert rig.venue.status_requests == [lost.child_id]
