"""Retired orders: out of recovery and out of memory, but still in the journal to be read back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs
import trio

from sor_daemon.store.journal import Journal, migrate
from tests.store.test_journal import life_of_an_order


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
