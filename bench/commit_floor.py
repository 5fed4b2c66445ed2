"""The disk's floor under a fill: journal commits as the daemon makes them, with nothing else
running.

A fill reaches the screen only once its event is durable: a commit of the journal in WAL mode
with ``synchronous=FULL``, an fsync of the write-ahead log. A fill that arrives while the writer
commits waits for that commit to end, then for its own. So what one such commit takes on this
machine's disk, measured in the same run, bounds how low the fill's latency can go however fast
the daemon is: it is a part of the fill's way no code of the daemon's can make shorter.
"""

from __future__ import annotations

import time
from pathlib import Path

from sor_daemon.store.history import ACCEPTED
from sor_daemon.store.journal import open_database
from sor_daemon.store.writer import BatchWriter, connect

ROW_BODY = "x" * 300
"""About the size of a fill's journal row (a ``ChildReported``'s JSON)."""


def commit_milliseconds(directory: Path, commits: int, rate: float) -> list[float]:
    """How long each of ``commits`` commits of one fill-sized row took (ms), one every
    ``1 / rate`` seconds, to a fresh journal in ``directory``: made, and written, as the
    daemon's writer makes and writes it, for an order that is live."""
    directory.mkdir()
    path = directory / "journal.sqlite"
    open_database(path).close()
    connection = connect(path)
    writer = BatchWriter(connection)
    writer.write([([("o", ACCEPTED, ROW_BODY)], [])])
    times = []
    try:
        next_at = time.monotonic()
        for _ in range(commits):
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1 / rate
            started = time.perf_counter()
            writer.write([([("o", "ChildReported", ROW_BODY)], [])])
            times.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return times
