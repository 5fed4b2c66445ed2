"""Journals as earlier versions of the daemon left them, to test the migrations from them."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def as_version_3(path: Path) -> None:
    """Turn the journal at ``path`` back into schema 3: every event indexed by order as it was
    written, no ``order_events``, no first event of a live order."""
    with sqlite3.connect(path, isolation_level=None) as connection:
        connection.executescript(
            "DROP TABLE order_events; ALTER TABLE live DROP COLUMN first_seq;"
            "CREATE INDEX events_by_order ON events (order_id, seq); PRAGMA user_version=3;"
        )
    connection.close()
