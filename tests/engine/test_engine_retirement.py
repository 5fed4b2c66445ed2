"""Orders that are over leave memory: they are retired in the journal, read back on demand, and
left out of recovery; what a client sees of them does not change."""

from __future__ import annotations

import json
import sqlite3
import weakref
from decimal import Decimal
from pathlib import Path

import pytest
import trio
import trio.testing

from sor_daemon.domain.values import OrderStatus
from sor_daemon.engine.clock import TrioClock
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import ParameterChanges
from sor_daemon.store.journal import Journal
from tests.engine.test_engine_restart import run_engine
from tests.support.journal_schema import as_version_3
from tests.support.orders import START
from tests.support.rig import Rig, new, wait_until_over


async def retired_ids(journal: Journal) -> set[str]:
    with sqlite3.connect(journal.path) as reader:
        rows = reader.execute("SELECT order_id FROM retired").fetchall()
    reader.close()
    return {order_id for (order_id,) in rows}


async def test_a_finished_order_is_retired_and_read_back_unchanged(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    done = await rig.engine.submit(new("1", "4MIN", "1MIN", order_id="done"))
    running = await rig.engine.submit(new("10", "1HRS", "1MIN", order_id="running"))
    await wait_until_over(done)
    await trio.sleep(1)

    assert [order.id for order in rig.engine.live_orders()] == ["running"]
    assert await retired_ids(rig.journal) == {"done"}
    read_back = rig.engine.get("done")
    assert read_back is not done and read_back == done
    assert read_back.status is OrderStatus.COMPLETED and read_back.filled == Decimal(1)
    views = [view async for page in rig.engine.order_views(lambda order: True) for view in page]
    assert [json.loads(view)["id"] for view in views] == ["done", "running"]
    assert rig.engine.status_counts() == {"Completed": 1, "Running": 1}
    assert running.status is OrderStatus.RUNNING


async def test_a_retired_order_leaves_memory(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    done = await rig.engine.submit(new("1", "4MIN", "1MIN", order_id="done"))
    await wait_until_over(done)
    watched = weakref.ref(done)
    del done
    await trio.sleep(1)
    assert await retired_ids(rig.journal) == {"done"}
    assert watched() is None


async def test_a_retired_order_keeps_its_id_and_refuses_commands(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    done = await rig.engine.submit(new("1", "2MIN", "1MIN", order_id="done"))
    await wait_until_over(done)
    await trio.sleep(1)
    assert await retired_ids(rig.journal) == {"done"}

    with pytest.raises(ProtocolError, match="exists"):
        await rig.engine.submit(new("1", "2MIN", "1MIN", order_id="done"))
    with pytest.raises(ProtocolError, match="Completed"):
        await rig.engine.cancel("done")
    with pytest.raises(ProtocolError, match="no smart order with id never"):
        rig.engine.get("never")
    assert rig.engine.get("done").status is OrderStatus.COMPLETED


async def test_recovery_replays_only_live_orders_and_retires_what_was_left_over(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "journal.sqlite"
    clock = TrioClock(START)
    async with trio.open_nursery() as first_life:
        engine, _ = await first_life.start(run_engine, path, clock)
        done = await engine.submit(new("1", "2MIN", "1MIN", order_id="done"))
        await engine.submit(new("10", "1HRS", "1MIN", order_id="running"))
        await wait_until_over(done)
        await trio.sleep(1)
        first_life.cancel_scope.cancel()

    as_version_3(path)
    database = sqlite3.connect(path, isolation_level=None)  # back to the first schema
    database.executescript(
        "DROP INDEX events_accepted; DROP TABLE retired; DROP TABLE live; PRAGMA user_version=1;"
    )
    database.close()

    async with trio.open_nursery() as second_life:
        engine, _ = await second_life.start(run_engine, path, clock)
        await trio.sleep(1)
        assert [order.id for order in engine.live_orders()] == ["running"]
        assert engine.status_counts() == {"Completed": 1, "Running": 1}
        second_life.cancel_scope.cancel()

    replayed = Journal(path)
    assert {event.order_id for event in replayed.replay_live()} == {"running"}
    replayed.close()


async def test_a_retired_order_is_still_found_by_its_last_client_reference(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("1", "4MIN", "1MIN", order_id="d-1"), "fix:DESK1")
    await rig.engine.change(order.id, ParameterChanges(amount=Decimal(2)), client_ref="g-1")
    await rig.engine.cancel(order.id, client_ref="f-1")
    await trio.sleep(1)

    assert await retired_ids(rig.journal) == {"d-1"}
    assert rig.engine.with_client_ref("f-1") == ["d-1"]
    assert rig.engine.with_client_ref("g-1") == []
    assert rig.engine.get("d-1").client_refs == ["g-1", "f-1"]
