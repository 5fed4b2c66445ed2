"""What a benchmark reads back from a stopped daemon's data directory: when quickfix logged each
message of the EMS session, and the journal's events.

quickfix's message log starts every line with the moment the message went out or came in, in
microseconds (``20261126-22:35:14.123456 : 8=FIX.4.4|...``): finer than SendingTime, which
has milliseconds, and stamped by quickfix itself rather than by Python, so it shows when a
message reached or left the wire whatever the daemon's Trio thread was doing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sor_daemon.domain.events import Event
from sor_daemon.store.records import decode


def ems_log_dir(data_dir: Path) -> Path:
    """Where the daemon whose data directory is ``data_dir`` keeps its EMS session's logs."""
    return data_dir / "fix" / "ems" / "log"


def logged_messages(log_dir: Path, msg_type: str) -> Iterator[tuple[float, dict[str, str]]]:
    """Each message of type ``msg_type`` in the message logs under ``log_dir``: when quickfix
    logged it (epoch seconds) and its fields by tag (a repeated tag keeps its last value)."""
    wanted = f"\x0135={msg_type}\x01"
    for path in log_dir.glob("*.messages.current.log"):
        for line in path.read_text(errors="replace").splitlines():
            if wanted not in line:
                continue
            logged, _, message = line.partition(" : ")
            fields = dict(field.split("=", 1) for field in message.split("\x01") if "=" in field)
            stamp = datetime.strptime(logged[:24], "%Y%m%d-%H:%M:%S.%f").replace(tzinfo=UTC)
            yield stamp.timestamp(), fields


def journal_events(journal: Path, *kinds: str) -> Iterator[Event]:
    """The events of the given kinds in the journal at ``journal``, in the order written (the
    file opened read-only)."""
    marks = ", ".join("?" * len(kinds))
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            f"SELECT kind, body FROM events WHERE kind IN ({marks}) ORDER BY seq", kinds
        ).fetchall()
    for kind, body in rows:
        yield decode(kind, body)
