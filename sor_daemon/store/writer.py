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
from array import array
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
    "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?) ORDER BY key "
    "RETURNING seq, order_id, kind"
)
_INSERT_LIVE = (
    "INSERT INTO live (order_id, first_seq) SELECT json_extract(value, '$[0]'), "
    "json_extract(value, '$[1]') FROM json_each(?)"
)
_INSERT_RETIRED = (
    "INSERT OR IGNORE INTO retired (order_id, status, client_ref) SELECT json_extract(value, "
    "'$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)"
)
_DELETE_LIVE = (
    "DELETE FROM live WHERE order_id IN (SELECT json_extract(value, '$[0]') FROM json_each(?))"
)
_INDEX_EVENTS = (
    "INSERT INTO order_events (order_id, seqs) SELECT json_extract(value, '$[0]'), "
    "json_extract(value, '$[1]') FROM json_each(?) WHERE true ON CONFLICT (order_id) DO UPDATE "
    "SET seqs = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(seqs) "
    "UNION SELECT value FROM json_each(excluded.seqs)))"
)
LIVE_EVENTS = (
    "FROM events WHERE seq >= (SELECT min(first_seq) FROM live) "
    "AND order_id IN (SELECT order_id FROM live) ORDER BY seq"
)
"""The events of every live order, oldest first: a scan from the first event of the oldest."""
READ_SIZE = 1 << 20
FAILED = "failed"
"""The first element of the answer to a failed commit."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection to write the journal at ``path`` (already created and migrated), committing
    with ``synchronous=FULL``: a commit that returned survives a crash of the machine."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=FULL")
    return connection


class BatchWriter:
    """Writes the journal's batches on one connection, indexing each order's events by order
    only once the order retires.

    An index of every event by order, kept up as events were written, touched a page of its
    own for nearly every row (thousands of orders trade at once, their ids at random places
    in it), and made each commit write and sync that many pages and its checkpoints copy them
    back: with 3,000 orders live, two to three and a half times the time a row, and a commit
    p99 of 9 to 14 ms where the events alone take 0.3 to 0.6 ms. So events are only appended;
    the writer remembers which rows are each live order's, and writes them to ``order_events``
    when the order retires: one row, its rows' numbers as a JSON array. (A row an event cost
    each order ending about 45 bytes an event in one commit, and a thousand ten-minute orders
    ending in the same second held the last slices of the others up to 1.6 s.) A live order's
    events are found from ``live.first_seq`` (``LIVE_EVENTS``).
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._live: dict[str, array[int]] = {}
        """The rows (``seq``) of each live order's events, oldest first."""
        for seq, order_id in connection.execute(f"SELECT seq, order_id {LIVE_EVENTS}"):
            self._live.setdefault(order_id, array("q")).append(seq)

    def write(self, batches: Sequence[tuple[Sequence[Row], Sequence[Retired]]]) -> None:
        """Write ``batches`` (their events, and the orders they retire) in one transaction.

        Each table gets one statement a batch, its rows one JSON array parameter. A batch of
        events for live orders alone is one statement, a transaction of its own, with no
        ``BEGIN`` and ``COMMIT`` around it."""
        batches = [(rows, retired) for rows, retired in batches if rows or retired]
        if not batches:
            return
        rows, retired = batches[0]
        if len(batches) == 1 and not retired and self._only_live(rows):
            self._remember(self._execute(_INSERT_EVENTS, rows))
            return
        self._connection.execute("BEGIN")
        try:
            for rows, retired in batches:
                written = self._execute(_INSERT_EVENTS, rows) if rows else []
                self._follow_up(written, retired)
            self._connection.execute("COMMIT")
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise

    def _only_live(self, rows: Sequence[Row]) -> bool:
        """True when every row is a later event of a live order: nothing to write but them."""
        live = self._live
        return all(row[1] != ACCEPTED and row[0] in live for row in rows)

    def _follow_up(self, written: list[tuple[int, str, str]], retired: Sequence[Retired]) -> None:
        """After events are written: the orders they start go live, the events of orders that
        are not live are indexed at once, and the retired orders' rows are indexed."""
        started = [(order_id, seq) for seq, order_id, kind in written if kind == ACCEPTED]
        if started:
            self._execute(_INSERT_LIVE, started)
            for order_id, _ in started:
                self._live.setdefault(order_id, array("q"))
        unindexed = self._remember(written)
        if retired:
            self._execute(_INSERT_RETIRED, retired)
            self._execute(_DELETE_LIVE, retired)
            for order_id, *_ in retired:
                seqs = self._live.pop(order_id, ())
                unindexed[order_id] = [*seqs, *unindexed.get(order_id, ())]
        if unindexed:
            self._execute(_INDEX_EVENTS, list(unindexed.items()))

    def _remember(self, written: list[tuple[int, str, str]]) -> dict[str, list[int]]:
        """Note the rows of live orders; the rows of the others, by order, to index now."""
        unindexed: dict[str, list[int]] = {}
        for seq, order_id, _ in sorted(written):
            seqs = self._live.get(order_id)
            if seqs is None:
                unindexed.setdefault(order_id, []).append(seq)
            else:
                seqs.append(seq)
        return unindexed

    def _execute(self, statement: str, values: Sequence[object]) -> list[tuple[int, str, str]]:
        """Run ``statement`` with ``values`` as its one JSON array parameter; what it returns."""
        return self._connection.execute(statement, (orjson.dumps(values).decode(),)).fetchall()


def serve(path: Path, source: int, answers: int) -> int:
    """Commit the batches read from the file descriptor ``source``, answering on ``answers``,
    until ``source`` ends (0) or a commit fails (1)."""
    connection = connect(path)
    writer = BatchWriter(connection)
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
            writer.write([(rows, retired) for _, rows, retired in batches])
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
