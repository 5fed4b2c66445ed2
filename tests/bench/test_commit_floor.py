"""The disk's floor is measured on commits the daemon's writer would make: one fill-sized row
each for a live order, into a journal made as the daemon makes it, every one of them
committed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.commit_floor import commit_milliseconds


def test_each_commit_is_timed_and_its_row_is_in_the_journal(tmp_path: Path) -> None:
    times = commit_milliseconds(tmp_path / "floor", 5, rate=1000)
    assert len(times) == 5 and all(time > 0 for time in times)
    with sqlite3.connect(tmp_path / "floor" / "journal.sqlite") as journal:
        kinds = [kind for (kind,) in journal.execute("SELECT kind FROM events WHERE seq > 1")]
        (mode,) = journal.execute("PRAGMA journal_mode").fetchone()
    assert kinds == ["ChildReported"] * 5
    assert mode == "wal"
