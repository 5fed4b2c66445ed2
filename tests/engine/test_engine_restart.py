"""A restart on the same journal: running orders resume on their original schedule, finished and
cancelled ones stay as they were."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import trio
import trio.testing

from sor_daemon.domain.values import OrderStatus
from sor_daemon.engine.clock import TrioClock
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.ports import ChildReport
from sor_daemon.engine.runner import Services
from sor_daemon.engine.settings import TradingSettings
from sor_daemon.protocol.messages import ParameterChanges
from sor_daemon.store.halt import HaltFile
from sor_daemon.store.journal import Journal
from tests.support.orders import START, TABLE
from tests.support.paper import PaperVenue, StaticMarket
from tests.support.rig import new, wait_until_over


async def run_engine(
    journal_path: Path, clock: TrioClock, task_status: trio.TaskStatus = trio.TASK_STATUS_IGNORED
) -> None:
    venue = PaperVenue(clock)
    journal = Journal(journal_path, commit_on_trio_thread=True)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            services = Services(
                journal, venue, StaticMarket(clock), Feed(), clock, TradingSettings()
            )
            engine = Engine(
                services, TABLE, venue.news, HaltFile(journal_path.with_name("halt.json"))
            )
            await nursery.start(engine.run)
            task_status.started((engine, venue))
    finally:
        journal.close()


async def test_a_restart_resumes_running_orders_on_their_original_grid(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "journal.sqlite"
    clock = TrioClock(START)
    async with trio.open_nursery() as first_life:
        engine, venue = await first_life.start(run_engine, path, clock)
        running = await engine.submit(new("10", "10MIN", "1MIN", order_id="running"))
        cancelled = await engine.submit(new("10", "10MIN", "1MIN", order_id="cancelled"))
        await trio.sleep(3 * 60 + 1)  # slices 0..3 traded
        await engine.cancel(cancelled.id)
        sent_before = len(venue.sent)
        first_life.cancel_scope.cancel()  # the daemon stops
    assert running.status is OrderStatus.RUNNING and len(running.children) == 4

    await trio.sleep(2 * 60 + 30)  # down through slices 4 and 5

    async with trio.open_nursery() as second_life:
        engine, venue = await second_life.start(run_engine, path, clock)
        resumed = engine.get("running")
        assert resumed.filled == running.filled == Decimal("3.6")
        await wait_until_over(resumed)
        assert resumed.status is OrderStatus.COMPLETED
        assert resumed.filled == Decimal(10)
        assert engine.get("cancelled").status is OrderStatus.CANCELLED
        assert {child.order_id for child, _ in venue.sent} == {"running"}
        sent_at = [(at - START).total_seconds() for _, at in venue.sent]
        # slices 4 and 5 were missed: one catch-up slice at once, then the original grid
        assert sent_at[0] == 3 * 60 + 1 + 2 * 60 + 30
        assert sent_at[1:] == [360.0, 420.0, 480.0, 540.0, 600.0]
        assert [c.id for c in resumed.children.values()][4] == "running-5"
        second_life.cancel_scope.cancel()
    assert sent_before == 8


async def test_a_halt_survives_a_restart_until_resumed(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "journal.sqlite"
    clock = TrioClock(START)
    async with trio.open_nursery() as first_life:
        engine, venue = await first_life.start(run_engine, path, clock)
        order = await engine.submit(new("10", "10MIN", "1MIN"))
        await trio.sleep(60 + 1)  # slices 0 and 1 traded
        await engine.halt("risk desk")
        await trio.sleep(1)
        first_life.cancel_scope.cancel()  # the daemon stops while halted
    assert len(order.children) == 2

    async with trio.open_nursery() as second_life:
        engine, venue = await second_life.start(run_engine, path, clock)
        assert engine.halted and engine.halt_state.reason == "risk desk"
        await trio.sleep(3 * 60)
        assert venue.sent == []  # still halted: nothing traded
        restored = engine.get(order.id)
        assert restored.status is OrderStatus.RUNNING
        assert restored.status_info == "halted: risk desk"
        await engine.resume()
        await wait_until_over(restored)
        assert restored.status is OrderStatus.COMPLETED
        second_life.cancel_scope.cancel()
    assert not (tmp_path / "halt.json").exists()


async def test_a_client_reference_survives_a_restart(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A FIX amend's ClOrdID is journaled with the change: after a restart the order is still
    known by it, and a later cancel's reference follows it in the chain."""
    path = tmp_path / "journal.sqlite"
    clock = TrioClock(START)
    async with trio.open_nursery() as first_life:
        engine, _ = await first_life.start(run_engine, path, clock)
        order = await engine.submit(new("10", "10MIN", "1MIN", order_id="d-1"), "fix:DESK1")
        await engine.change(order.id, ParameterChanges(amount=Decimal(12)), client_ref="g-1")
        await engine.change(order.id, ParameterChanges(amount=Decimal(11)))
        first_life.cancel_scope.cancel()
    assert order.client_ref == "g-1"

    async with trio.open_nursery() as second_life:
        engine, _ = await second_life.start(run_engine, path, clock)
        restored = engine.get("d-1")
        assert (restored.client_ref, restored.amount) == ("g-1", Decimal(11))
        await engine.cancel(restored.id, client_ref="f-1")
        assert restored.client_refs == ["g-1", "f-1"]
        second_life.cancel_scope.cancel()


async def test_reports_heard_while_the_engine_stops_start_no_runner(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A report for an order whose runner has stopped, heard while the engine stops, is left
    for the next start (which reconciles the order with the EMS): the engine's nursery takes
    no new runner then, and stopping must not fail on it."""
    path = tmp_path / "journal.sqlite"
    clock = TrioClock(START)
    stopped = trio.Event()

    async def report_until_stopped(venue: PaperVenue, report: ChildReport) -> None:
        while not stopped.is_set():
            venue.news.publish(report)
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as test:
        async with trio.open_nursery() as life:
            engine, venue = await life.start(run_engine, path, clock)
            venue.silent = True  # the child stays open, its report unheard
            order = await engine.submit(new("10", "10MIN", "1MIN", order_id="open"))
            await trio.sleep(1)
            [child] = order.open_children
            life.cancel_scope.cancel()  # the daemon stops; the report comes at every turn
            test.start_soon(report_until_stopped, venue, venue.executed[child.id])
        stopped.set()

    async with trio.open_nursery() as second_life:
        engine, _ = await second_life.start(run_engine, path, clock)
        assert [c.id for c in engine.get("open").open_children] == [child.id]
        second_life.cancel_scope.cancel()
