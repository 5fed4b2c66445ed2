"""The journal's writer: a process of its own that commits what the daemon sends it.

``python -m sor_daemon.store.writer PATH`` reads batches from stdin, one JSON line each
(``[number, rows, retired]``), and writes what has arrived by the time it is free in one
transaction (the journal hands it one batch at a time, what gathered while it committed the
last). After each commit it answers on stdout with one JSON line, ``[number, seconds]``: every
batch up to ``number`` is durable, and the commit took ``seconds``.
If a commit fails it answers ``["failed", reason]`` and exits with status 1. When stdin ends it
commits what it has, answers, and exits with status 0.

Why a process and not a thread of the daemon's: a writer thread needs the daemon's GIL to wake
up, between each step into SQLite, and to hand the outcome back, and the daemon's Trio thread
holds it whenever it is busy. Measured at 500 fills a second, that round trip had a p99 of 5 to
9 ms where the commit itself takes half a millisecond; a process waits only for the operating
system to run it. ``write_batch`` is also how the journal commits on the Trio thread (tests on
Trio's mock clock).
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

from sor_daemon.store.history import ACCEPTED

Row = Sequence[str]
"""An event as the journal stores it: order id, kind, body (JSON)."""
Retired = Sequence[str | None]
"""A retired order: order id, final status, last client reference (or None)."""

_INSERT_EVENTS = (
    "INSERT INTO events (order_id, kind, body) SELECT json_extract(value, '$[0]'), "
    "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?) ORDER BY key"
)
_INSERT_LIVE = "INSERT INTO live (order_id) SELECT value FROM json_each(?)"
_INSERT_RETIRED = (
    "INSERT OR IGNORE INTO retired (order_id, status, client_ref) SELECT json_extract(value, "
    "'$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)"
)
_DELETE_LIVE = (
    "DELETE FROM live WHERE order_id IN (SELECT json_extract(value, '$[0]') FROM json_each(?))"
)
READ_SIZE = 1 << 20
FAILED = "failed"
"""The first element of the answer to a failed commit."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection to write the journal at ``path`` (already created and migrated), committing
    with ``synchronous=FULL``: a commit that returned survives a crash of the machine."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def write_batch(
    connection: sqlite3.Connection,
    batches: Sequence[tuple[Sequence[Row], Sequence[Retired]]],
) -> None:
    """Write ``batches`` (their events, and the orders they retire) in one transaction.

    Each table gets one statement a batch, its rows one JSON array parameter. A batch of events
    alone is one statement, a transaction of its own, with no ``BEGIN`` and ``COMMIT`` around it.
    """
    statements: list[tuple[str, Sequence[object]]] = []
    for rows, retired in batches:
        if rows:
            statements.append((_INSERT_EVENTS, rows))
        accepted = [row[0] for row in rows if row[1] == ACCEPTED]
        if accepted:
            statements.append((_INSERT_LIVE, accepted))
        if retired:
            statements += [(_INSERT_RETIRED, retired), (_DELETE_LIVE, retired)]
    if not statements:
        return
    if len(statements) == 1:
        statement, values = statements[0]
        connection.execute(statement, (_json_array(values),))
        return
    connection.execute("BEGIN")
    try:
        for statement, values in statements:
            connection.execute(statement, (_json_array(values),))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _json_array(values: Sequence[object]) -> str:
    """``values`` as one JSON array: a whole batch goes to SQLite as one statement's parameter."""
    return orjson.dumps(values).decode()


def serve(path: Path, source: int, answers: int) -> int:
    """Commit the batches read from the file descriptor ``source``, answering on ``answers``,
    until ``source`` ends (0) or a commit fails (1)."""
    connection = connect(path)
    pending = b""
    ended = False
    while not ended:
        chunk, ended = _read_available(source)
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        batches = [orjson.loads(line) for line in lines]
        if not batches:
            continue
        started = time.perf_counter()
        try:
            write_batch(connection, [(rows, retired) for _, rows, retired in batches])
        except Exception as error:
            os.write(answers, orjson.dumps([FAILED, str(error)]) + b"\n")
            return 1
        answer = [batches[-1][0], time.perf_counter() - started]
        os.write(answers, orjson.dumps(answer) + b"\n")
    connection.close()
    return 0


def _read_available(source: int) -> tuple[bytes, bool]:
    """What ``source`` holds: wait for some, then take whatever else is there at once; and
    whether it ended."""
    chunks = [os.read(source, READ_SIZE)]
    while chunks[-1] and select.select([source], [], [], 0)[0]:
        chunks.append(os.read(source, READ_SIZE))
    return b"".join(chunks), not chunks[-1]


def main() -> None:
    """``PATH``: serve the journal at PATH on stdin and stdout.

    SIGINT and SIGTERM are ignored: a Ctrl-C in a terminal or systemd's stop reach every
    process of the daemon, and the writer must commit what the daemon still sends it while it
    stops. It ends when the daemon closes its stdin (or dies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if len(sys.argv) != 2:
        sys.exit("usage: python -m sor_daemon.store.writer JOURNAL_PATH")
    sys.exit(serve(Path(sys.argv[1]), sys.stdin.fileno(), sys.stdout.fileno()))


if __name__ == "__main__":
    main()
