"""The journal: every smart order event, durable in SQLite before it takes effect.

One writer task owns the connection. Callers ``await journal.append(...)``; the writer takes
everything queued since its last commit and writes it in one transaction off the Trio thread
(group commit), so a burst of events costs one fsync and no caller waits longer than one commit
behind the one in progress. SQLite runs in WAL mode with ``synchronous=FULL``: a commit that
returned survives a crash of the process or the machine; a torn, uncommitted tail is discarded
by SQLite on the next open.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import attrs
import structlog
import trio

from sor_daemon.domain.events import Event
from sor_daemon.store.records import decode, encode

log = structlog.get_logger(__name__)

RunSync = Callable[..., Awaitable[object]]

SCHEMA_VERSION = 1
_MIGRATIONS: dict[int, Sequence[str]] = {
    1: (
        """CREATE TABLE events (
               seq INTEGER PRIMARY KEY AUTOINCREMENT,
               order_id TEXT NOT NULL,
               kind TEXT NOT NULL,
               body TEXT NOT NULL
           )""",
        "CREATE INDEX events_by_order ON events (order_id, seq)",
    ),
}
MAX_BATCH = 4096


class JournalClosed(RuntimeError):
    """The journal's writer is gone: nothing more can be made durable."""


@attrs.define
class _Pending:
    rows: list[tuple[str, str, str]]
    done: trio.Event = attrs.Factory(trio.Event)
    error: BaseException | None = None


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the journal database at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    try:
        migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the schema up to SCHEMA_VERSION, one versioned step at a time."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the journal was written by a newer sor-daemon (schema {version}, this one "
            f"knows {SCHEMA_VERSION}); upgrade sor-daemon or use another data directory"
        )
    for step in range(version + 1, SCHEMA_VERSION + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _MIGRATIONS[step]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version={step}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        log.info("journal schema migrated", version=step)


class Journal:
    """Append-only event journal with group commit; replayed in order on start."""

    def __init__(
        self,
        path: Path,
        run_sync: RunSync | None = None,
        observe_commit: Callable[[float], None] | None = None,
    ) -> None:
        """``run_sync`` runs a commit; by default in a worker thread. Tests on Trio's mock clock
        pass one that runs inline, because time jumps while a worker thread is busy.
        ``observe_commit`` is told each commit's wall-clock seconds (for the metrics)."""
        self.path = path
        self._run_sync = run_sync or trio.to_thread.run_sync
        self._observe_commit = observe_commit
        self._connection = open_database(path)
        self._send, self._receive = trio.open_memory_channel[_Pending](float("inf"))
        self._closed = False
        self.commits = 0

    @property
    def is_open(self) -> bool:
        """True until the writer stops or the journal is closed: events can be made durable."""
        return not self._closed

    def replay(self) -> Iterator[Event]:
        """Every journaled event in the order it was written (call before the writer runs)."""
        rows = self._connection.execute("SELECT kind, body FROM events ORDER BY seq")
        for kind, body in rows:
            yield decode(kind, body)

    async def append(self, *events: Event) -> None:
        """Return once every event is durable; raises JournalClosed if it cannot be."""
        if not events:
            return
        if self._closed:
            raise JournalClosed("the journal is closed")
        pending = _Pending([encode(event) for event in events])
        self._send.send_nowait(pending)
        await pending.done.wait()
        if pending.error is not None:
            raise JournalClosed(f"the journal could not write: {pending.error}") from pending.error

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The writer: commit whatever is queued, one transaction per batch, until cancelled."""
        task_status.started()
        try:
            while True:
                batch = [await self._receive.receive()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except trio.WouldBlock:
                        break
                await self._commit(batch)
        finally:
            self._closed = True
            await self._drain()

    async def _commit(self, batch: list[_Pending]) -> None:
        rows = [row for pending in batch for row in pending.rows]
        started = time.perf_counter()
        try:
            await self._run_sync(self._write, rows)
            if self._observe_commit is not None:
                self._observe_commit(time.perf_counter() - started)
        except Exception as error:
            log.error("journal write failed", error=str(error), rows=len(rows))
            for pending in batch:
                pending.error = error
            raise
        finally:
            for pending in batch:
                pending.done.set()

    async def _drain(self) -> None:
        """On shutdown, commit what was queued before the writer stopped (shielded)."""
        with trio.CancelScope(shield=True):
            batch = []
            while True:
                try:
                    batch.append(self._receive.receive_nowait())
                except trio.WouldBlock:
                    break
            if batch:
                await self._commit(batch)

    def _write(self, rows: list[tuple[str, str, str]]) -> None:
        connection = self._connection
        connection.execute("BEGIN")
        try:
            connection.executemany(
                "INSERT INTO events (order_id, kind, body) VALUES (?, ?, ?)", rows
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        self.commits += 1

    def close(self) -> None:
        """Close the database (after the writer has stopped)."""
        self._closed = True
        self._connection.close()
