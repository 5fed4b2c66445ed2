"""Retired orders: out of recovery and out of memory, but still in the journal to be read back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs
import trio

from sor_daemon.store.journal import Journal, migrate
from sor_daemon.store.records import encode
from sor_daemon.store.writer import BatchWriter, connect
from tests.store.test_journal import life_of_an_order
from tests.support.journal_schema import as_version_3


async def test_a_retired_order_is_left_out_of_recovery_but_can_be_read_back(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    over, live = life_of_an_order("over"), life_of_an_order("live")
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*over, *live)
        await journal.retire("over", "Cancelled")
        await journal.retire("over", "Cancelled")  # retiring twice is harmless
        nursery.cancel_scope.cancel()
    journal.close()

    reopened = Journal(tmp_path / "j.sqlite")
    assert list(reopened.replay_live()) == live
    assert reopened.retired_statuses() == {"Cancelled": 1}
    assert reopened.events_of("over") == over
    assert reopened.has_order("over") and reopened.has_order("live")
    assert not reopened.has_order("never") and reopened.events_of("never") == []
    assert len(list(reopened.replay())) == len(over) + len(live)
    reopened.close()


async def test_one_commit_keeps_every_row_of_a_burst_in_order_and_exact(tmp_path: Path) -> None:
    """Appends and retirements gathered into one commit come back in order, text untouched."""
    journal = Journal(tmp_path / "j.sqlite")
    lives = [life_of_an_order(f"o-{n}") for n in range(50)]
    lives[7][-1] = attrs.evolve(lives[7][-1], info='Annulé par « l\'opérateur » \\ "vite" 😀')
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        # The first order goes to the idle writer at once; the burst gathers while it commits.
        journal.append_unawaited(*lives[0])
        async with trio.open_nursery() as callers:
            callers.start_soon(journal.append, *(event for events in lives[1:] for event in events))
            for n in range(0, 50, 2):
                callers.start_soon(journal.retire, f"o-{n}", "Cancelled", f"ref-{n}")
        nursery.cancel_scope.cancel()
    assert journal.commits == 2
    journal.close()

    reopened = Journal(tmp_path / "j.sqlite")
    assert list(reopened.replay()) == [event for events in lives for event in events]
    assert list(reopened.replay_live()) == [e for events in lives[1::2] for e in events]
    assert reopened.retired_statuses() == {"Cancelled": 25}
    assert reopened.retired_with_client_ref("ref-8") == ["o-8"]
    reopened.close()


def test_a_journal_of_the_first_schema_gains_the_retired_table(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    first = sqlite3.connect(path, isolation_level=None)
    first.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "kind TEXT NOT NULL, body TEXT NOT NULL)"
    )
    first.execute("CREATE INDEX events_by_order ON events (order_id, seq)")
    first.execute("PRAGMA user_version=1")
    migrate(first)
    assert first.execute("SELECT count(*) FROM retired").fetchone() == (0,)
    first.close()


def index_of(path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT o.order_id, j.value FROM order_events AS o, json_each(o.seqs) AS j "
            "ORDER BY j.value"
        ).fetchall()
    connection.close()
    return rows


async def test_events_are_indexed_by_order_when_the_order_retires(tmp_path: Path) -> None:
    """A live order's events are only appended; retiring it indexes every one of them, those
    written before the writer last started too, and the journal reads them back by order."""
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    early, late = life_of_an_order("early"), life_of_an_order("late")
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*early[:2], *late[:2])
        nursery.cancel_scope.cancel()
    journal.close()
    assert index_of(path) == []

    journal = Journal(path)  # a new writer, which learns the live orders' rows from the file
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*early[2:], *late[2:])
        assert journal.events_of("late") == late  # live, not yet in memory: read by its rows
        await journal.retire("early", "Completed")
        nursery.cancel_scope.cancel()
    assert [order_id for order_id, _ in index_of(path)] == ["early"] * len(early)
    assert journal.events_of("early") == early
    assert list(journal.replay_live()) == late
    reader = journal.history()
    assert reader.events_of(["early", "late", "never"]) == {"early": early, "late": late}
    reader.close()
    journal.close()


def test_a_late_event_of_a_retired_order_is_indexed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    connection = connect(path)
    writer = BatchWriter(connection)
    events = [encode(event) for event in life_of_an_order("o")]
    writer.write([(events[:2], [("o", "Cancelled", None)])])
    writer.write([(events[2:], [])])
    connection.close()
    assert [seq for _, seq in index_of(path)] == list(range(1, len(events) + 1))


async def test_a_journal_of_schema_3_indexes_its_retired_orders_and_finds_its_live_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    over, live = life_of_an_order("over"), life_of_an_order("live")
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*over[:2], *live[:2])
        await journal.append(*over[2:], *live[2:])
        await journal.retire("over", "Cancelled")
        nursery.cancel_scope.cancel()
    journal.close()
    as_version_3(path)

    migrated = Journal(path)
    assert migrated.events_of("over") == over
    assert list(migrated.replay_live()) == live
    assert migrated.has_order("live") and migrated.has_order("over")
    with sqlite3.connect(path) as connection:
        indexes = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert "events_by_order" not in {name for (name,) in indexes}
    connection.close()
    migrated.close()
