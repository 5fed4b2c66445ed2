"""GET /requests's list: every order once, in the order it was accepted, a page at a time, live
ones from memory and retired ones read back, with the Trio thread free between pages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import attrs
import trio

from sor_daemon.domain.events import Event, StatusChanged
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import OrderStatus
from sor_daemon.engine.listing import Visible, order_views
from sor_daemon.engine.presenting import encoded_view
from sor_daemon.store.journal import Journal
from tests.store.test_journal import life_of_an_order
from tests.support.journal_schema import as_version_3

IDS = [f"o-{n}" for n in range(7)]
LIVE = {"o-1", "o-4"}


def everyone(order: SmartOrder) -> bool:
    return True


def life(order_id: str, origin: str = "api") -> list[Event]:
    """An order's events; a live one ends while still running (its last event dropped)."""
    accepted, *rest = life_of_an_order(order_id)
    events = [attrs.evolve(accepted, origin=origin), *rest]
    return events[:-1] if order_id in LIVE else events


async def history(path: Path, origins: dict[str, str] | None = None) -> Journal:
    """A journal of IDS in order, all but LIVE retired, reopened as the daemon opens it."""
    journal = Journal(path)
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        for order_id in IDS:
            await journal.append(*life(order_id, (origins or {}).get(order_id, "api")))
        for order_id in IDS:
            if order_id not in LIVE:
                await journal.retire(order_id, "Cancelled")
        nursery.cancel_scope.cancel()
    journal.close()
    return Journal(path)


def in_memory(journal: Journal) -> dict[str, SmartOrder]:
    """The live orders as the engine holds them: replayed, then changed since (not journaled),
    so a view made from the journal instead would differ."""
    live = {order_id: SmartOrder.replay(journal.events_of(order_id)) for order_id in LIVE}
    for order in live.values():
        order.apply(
            StatusChanged(order.id, OrderStatus.EXPIRED, "in memory only", order.created_at)
        )
    return live


async def listed(
    journal: Journal,
    live: dict[str, SmartOrder],
    visible: Visible = everyone,
    newest: int | None = None,
) -> list[list[str]]:
    """Each page's views, as JSON text."""
    pages = order_views(journal, live, encoded_view, visible, newest, page_size=3)
    return [page async for page in pages]


def ids(pages: list[list[str]]) -> list[list[str]]:
    return [[json.loads(text)["id"] for text in page] for page in pages]


async def test_every_order_is_listed_once_in_acceptance_order_in_pages(tmp_path: Path) -> None:
    journal = await history(tmp_path / "j.sqlite")
    live = in_memory(journal)

    pages = await listed(journal, live)

    assert ids(pages) == [IDS[0:3], IDS[3:6], IDS[6:7]]
    expected = {
        order_id: encoded_view(live.get(order_id) or SmartOrder.replay(journal.events_of(order_id)))
        for order_id in IDS
    }
    assert [text for page in pages for text in page] == [expected[n] for n in IDS]
    assert json.loads(expected["o-1"])["status"] == "Expired"
    journal.close()


async def test_the_newest_orders_are_listed_oldest_first(tmp_path: Path) -> None:
    journal = await history(tmp_path / "j.sqlite")
    live = in_memory(journal)

    assert ids(await listed(journal, live, newest=4)) == [IDS[3:7]]
    assert ids(await listed(journal, live, newest=1)) == [IDS[6:7]]
    assert ids(await listed(journal, live, newest=100)) == [IDS]
    journal.close()


async def test_the_newest_a_trader_may_see_are_found_past_the_others(tmp_path: Path) -> None:
    origins = {order_id: "desk-1" for order_id in ("o-0", "o-1", "o-2")}
    journal = await history(tmp_path / "j.sqlite", origins)

    def desk_1(order: SmartOrder) -> bool:
        return order.origin == "desk-1"

    live = in_memory(journal)
    assert ids(await listed(journal, live, desk_1, newest=2)) == [["o-1", "o-2"]]
    assert ids(await listed(journal, live, desk_1)) == [["o-0", "o-1", "o-2"], [], []]
    journal.close()


async def test_an_order_retired_while_its_page_is_made_is_read_back(tmp_path: Path) -> None:
    """Its page read it as live; by the time its view is made the engine has dropped it."""
    journal = await history(tmp_path / "j.sqlite")
    live = in_memory(journal)

    def retire_o_4_meanwhile(order: SmartOrder) -> bool:
        live.pop("o-4", None)
        return True

    pages = await listed(journal, live, retire_o_4_meanwhile)

    assert ids(pages) == [IDS[0:3], IDS[3:6], IDS[6:7]]
    assert json.loads(pages[1][1])["status"] == "Running"  # as the journal has it
    journal.close()


async def test_other_tasks_run_between_pages(tmp_path: Path) -> None:
    journal = await history(tmp_path / "j.sqlite")
    turns = 0

    async def other_task() -> None:
        nonlocal turns
        while True:
            await trio.lowlevel.checkpoint()
            turns += 1

    async with trio.open_nursery() as nursery:
        nursery.start_soon(other_task)
        seen = []
        pages = order_views(journal, in_memory(journal), encoded_view, everyone, page_size=3)
        async for _ in pages:
            seen.append(turns)
        nursery.cancel_scope.cancel()
    assert len(seen) == 3
    assert 0 < seen[0] < seen[1] < seen[2]
    journal.close()


def test_accepted_orders_are_paged_by_position_both_ways(tmp_path: Path) -> None:
    journal = trio.run(history, tmp_path / "j.sqlite")
    reader = journal.history()
    first = reader.accepted(None, 3, False)
    assert [order_id for _, order_id in first] == IDS[0:3]
    after = reader.accepted(first[-1][0], 10, False)
    assert [order_id for _, order_id in after] == IDS[3:7]
    newest = reader.accepted(None, 2, True)
    assert [order_id for _, order_id in newest] == ["o-6", "o-5"]
    before = reader.accepted(newest[-1][0], 10, True)
    assert [order_id for _, order_id in before] == ["o-4", "o-3", "o-2", "o-1", "o-0"]
    assert reader.events_of(["o-2", "never"]) == {"o-2": life("o-2")}
    reader.close()
    journal.close()


def test_an_older_journal_gains_the_index_of_accepted_orders(tmp_path: Path) -> None:
    """Migrating a version-2 journal indexes the orders it already holds."""
    path = tmp_path / "j.sqlite"
    journal = trio.run(history, path)
    journal.close()
    as_version_3(path)
    with sqlite3.connect(path) as connection:
        connection.execute("DROP INDEX events_accepted")
        connection.execute("PRAGMA user_version=2")
    connection.close()

    journal = Journal(path)
    reader = journal.history()
    assert [order_id for _, order_id in reader.accepted(None, 10, False)] == IDS
    reader.close()
    journal.close()
