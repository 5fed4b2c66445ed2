"""The journal: every smart order event, durable in SQLite before it takes effect.

One writer thread owns the connection. Callers ``await journal.append(...)``; their rows join the
batch being gathered, and the writer takes everything gathered since its last commit and writes
it in one transaction (group commit), so a burst of events costs one fsync and no caller waits
longer than one commit behind the one in progress. The writer is a thread of its own, not a Trio
task handing each commit to a worker: it starts the next commit the moment the last one is
durable, and only the wake-up of the callers waits for Trio's scheduler (under load a turn of
it is long, and a commit that waited for three took many times its fsync). Every caller of a
batch waits on the batch's one event: a thousand orders slicing at once cost one wake-up
object, not one each. SQLite runs in WAL mode with ``synchronous=FULL``: a commit that
returned survives a crash of the process or the machine; a torn, uncommitted tail is discarded
by SQLite on the next open.

A batch reaches SQLite as one statement per table, its rows one JSON array parameter (and a
batch of events alone as that one statement, a transaction of its own). The writer thread
releases the GIL for each step into SQLite and must take it back after, and while the Trio
thread is busy each take waits for a hand-over: one statement per table makes that a handful of
waits per commit, where a statement per row made it one per row.

A smart order that is over (terminal, no child order left open) is *retired*: a row in the
``retired`` table and out of the ``live`` one, written through the same writer. Recovery replays
only the orders listed live (reading their events by index, never scanning the history), and
the engine keeps no retired order in memory: one is read back from SQLite when it is asked for.
So memory and start-up time follow the orders that are live, not the whole history.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import attrs
import orjson
import structlog
import trio

from sor_daemon.domain.events import Event
from sor_daemon.store.history import ACCEPTED, ACCEPTED_INDEX, OrderHistory
from sor_daemon.store.records import decode, encode

log = structlog.get_logger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 3
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
    2: (
        """CREATE TABLE retired (
               order_id TEXT PRIMARY KEY,
               status TEXT NOT NULL,
               client_ref TEXT
           )""",
        "CREATE INDEX retired_by_client_ref ON retired (client_ref)",
        "CREATE TABLE live (order_id TEXT PRIMARY KEY)",
        "INSERT INTO live SELECT DISTINCT order_id FROM events",
    ),
    3: (ACCEPTED_INDEX,),
}
_LIVE_EVENTS = (
    "SELECT e.kind, e.body FROM live JOIN events AS e ON e.order_id = live.order_id ORDER BY e.seq"
)
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


class JournalClosed(RuntimeError):
    """The journal's writer is gone: nothing more can be made durable."""


@attrs.define
class _Batch:
    """What one transaction will write, and the one event its callers wait on."""

    rows: list[tuple[str, str, str]] = attrs.Factory(list)
    retired: list[tuple[str, str, str | None]] = attrs.Factory(list)
    done: trio.Event = attrs.Factory(trio.Event)
    error: BaseException | None = None

    def __bool__(self) -> bool:
        return bool(self.rows or self.retired)


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
        *,
        commit_on_trio_thread: bool = False,
        observe_commit: Callable[[float], None] | None = None,
    ) -> None:
        """Commits run in the journal's own thread; tests on Trio's mock clock pass
        ``commit_on_trio_thread``, because time jumps while another thread is busy.
        ``observe_commit`` is told each commit's wall-clock seconds (for the metrics)."""
        self.path = path
        self._on_trio_thread = commit_on_trio_thread
        self._observe_commit = observe_commit
        self._connection = open_database(path)
        self._lookup = sqlite3.connect(path)
        self._gathered = threading.Condition()
        """Guards ``_batch`` and ``_stopping``; the writer thread waits on it for work."""
        self._batch = _Batch()
        self._stopping = False
        self._gathering = trio.Event()
        """Set once the batch being gathered has something in it: the Trio-thread writer
        waits for it."""
        self._failed = trio.Event()
        self._failure: BaseException | None = None
        self._closed = False
        self.commits = 0

    @property
    def is_open(self) -> bool:
        """True until the writer stops or the journal is closed: events can be made durable."""
        return not self._closed

    def replay(self) -> Iterator[Event]:
        """Every journaled event in the order it was written, retired orders' too (call before
        the writer runs)."""
        rows = self._connection.execute("SELECT kind, body FROM events ORDER BY seq")
        for kind, body in rows:
            yield decode(kind, body)

    def replay_live(self) -> Iterator[Event]:
        """The events of every order not retired, in the order they were written: what
        recovery needs (call before the writer runs)."""
        for kind, body in self._connection.execute(_LIVE_EVENTS):
            yield decode(kind, body)

    def retired_statuses(self) -> Counter[str]:
        """How many retired orders ended in each status (call before the writer runs)."""
        rows = self._connection.execute("SELECT status, count(*) FROM retired GROUP BY status")
        return Counter(dict(rows))

    def events_of(self, order_id: str) -> list[Event]:
        """One order's events, read back on the Trio thread: an indexed read of a few rows, for
        an order that is not in memory (a retired one)."""
        rows = self._lookup.execute(
            "SELECT kind, body FROM events WHERE order_id = ? ORDER BY seq", (order_id,)
        )
        return [decode(kind, body) for kind, body in rows]

    def has_order(self, order_id: str) -> bool:
        """True when any event of ``order_id`` was journaled (an indexed read, Trio thread)."""
        row = self._lookup.execute("SELECT 1 FROM events WHERE order_id = ? LIMIT 1", (order_id,))
        return row.fetchone() is not None

    def history(self) -> OrderHistory:
        """A reader of every order in the order they were accepted; close it when done."""
        return OrderHistory(self.path)

    async def read(self, read: Callable[..., T], *args: object) -> T:
        """``read(*args)``, a read of the history, run in a worker thread: one that decodes
        many events holds the GIL for long, and from a worker the Trio thread takes the GIL back
        at every switch interval instead of waiting it out. A journal that commits on the Trio
        thread (tests on the mock clock) reads there too."""
        if self._on_trio_thread:
            return read(*args)
        return await trio.to_thread.run_sync(read, *args)

    def retired_with_client_ref(self, client_ref: str) -> list[str]:
        """The retired orders whose last client reference (a FIX ClOrdID) is ``client_ref``,
        newest first (an indexed read, Trio thread)."""
        rows = self._lookup.execute(
            "SELECT order_id FROM retired WHERE client_ref = ? ORDER BY rowid DESC", (client_ref,)
        )
        return [order_id for (order_id,) in rows]

    async def retire(self, order_id: str, status: str, client_ref: str | None = None) -> None:
        """Mark an order that is over as retired, with its last client reference (idempotent);
        returns once durable."""
        await self._enqueue([], [(order_id, status, client_ref)])

    async def append(self, *events: Event) -> None:
        """Return once every event is durable; raises JournalClosed if it cannot be."""
        if events:
            await self._enqueue([encode(event) for event in events], [])

    def append_unawaited(self, *events: Event) -> None:
        """Queue events without waiting for them to be durable: they are once any later
        append has returned (batches commit in order). For events nothing is announced for;
        a failed commit still closes the journal and stops ``run``. Raises JournalClosed."""
        self._gather([encode(event) for event in events], [])

    async def _enqueue(
        self, rows: list[tuple[str, str, str]], retired: list[tuple[str, str, str | None]]
    ) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()  # a task being stopped stops here
        batch = self._gather(rows, retired)
        await batch.done.wait()
        if batch.error is not None:
            raise JournalClosed(f"the journal could not write: {batch.error}") from batch.error

    def _gather(
        self, rows: list[tuple[str, str, str]], retired: list[tuple[str, str, str | None]]
    ) -> _Batch:
        """Add rows to the batch being gathered, and wake the writer; that batch."""
        if self._closed:
            raise JournalClosed("the journal is closed")
        with self._gathered:
            batch = self._batch
            batch.rows += rows
            batch.retired += retired
            self._gathered.notify()
        if self._on_trio_thread:
            self._gathering.set()
        return batch

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Commit whatever is gathered, one transaction per batch, until cancelled (then what
        was gathered before) or until a commit fails (then raise its error)."""
        if self._on_trio_thread:
            await self._run_on_trio_thread(task_status)
            return
        token = trio.lowlevel.current_trio_token()
        writer = threading.Thread(
            target=self._write_gathered, args=(token,), name="journal writer", daemon=True
        )
        writer.start()
        task_status.started()
        try:
            await self._failed.wait()
        finally:
            self._closed = True
            with self._gathered:
                self._stopping = True
                self._gathered.notify()
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(writer.join)
        raise self._failure or JournalClosed("the journal's writer stopped")

    def _write_gathered(self, token: trio.lowlevel.TrioToken) -> None:
        """The writer thread: commit each batch as soon as the last one is durable, and hand
        the outcome to the Trio thread. A batch waits for no turn of Trio's scheduler to start:
        what gathered while one commit ran is the next one. Stops after a failure, or once
        stopping with nothing gathered."""
        while True:
            with self._gathered:
                while not self._batch and not self._stopping:
                    self._gathered.wait()
            batch = self._take_batch()
            if not batch:
                return
            error, seconds = self._commit(batch)
            token.run_sync_soon(self._committed, batch, error, seconds)
            if error is not None:
                return

    async def _run_on_trio_thread(self, task_status: trio.TaskStatus[None]) -> None:
        """``run`` for tests on the mock clock: each commit on the Trio thread."""
        task_status.started()
        try:
            while True:
                await self._gathering.wait()
                self._gathering = trio.Event()
                self._commit_on_trio_thread()
        finally:
            self._closed = True
            self._commit_on_trio_thread()

    def _commit_on_trio_thread(self) -> None:
        batch = self._take_batch()
        if batch:
            error, seconds = self._commit(batch)
            self._committed(batch, error, seconds)
            if error is not None:
                raise error

    def _take_batch(self) -> _Batch:
        """The batch gathered so far; the next callers gather a new one."""
        with self._gathered:
            batch, self._batch = self._batch, _Batch()
        return batch

    def _commit(self, batch: _Batch) -> tuple[Exception | None, float]:
        """Write ``batch`` in one transaction: the error, if it failed, and how long it took."""
        started = time.perf_counter()
        try:
            self._write(batch.rows, batch.retired)
        except Exception as error:
            return error, 0.0
        return None, time.perf_counter() - started

    def _committed(self, batch: _Batch, error: Exception | None, seconds: float) -> None:
        """On the Trio thread: wake the batch's callers; after a failure, close the journal,
        fail what gathered meanwhile and stop ``run`` with the error."""
        if error is None:
            if self._observe_commit is not None:
                self._observe_commit(seconds)
            batch.done.set()
            return
        log.error("journal write failed", error=str(error), rows=len(batch.rows))
        self._closed = True
        self._failure = error
        for failed in (batch, self._take_batch()):
            failed.error = error
            failed.done.set()
        self._failed.set()

    def _write(
        self, rows: list[tuple[str, str, str]], retired: list[tuple[str, str, str | None]]
    ) -> None:
        """One transaction. A batch of events alone (most are) is one statement, a transaction
        of its own: each statement gives up the GIL and waits to take it back from the busy
        Trio thread, so ``BEGIN`` and ``COMMIT`` around it would double the waits."""
        statements = [(_INSERT_EVENTS, rows)] if rows else []
        accepted = [order_id for order_id, kind, _ in rows if kind == ACCEPTED]
        if accepted:
            statements.append((_INSERT_LIVE, accepted))
        if retired:
            statements += [(_INSERT_RETIRED, retired), (_DELETE_LIVE, retired)]
        connection = self._connection
        if len(statements) == 1:
            statement, values = statements[0]
            connection.execute(statement, (_json_array(values),))
        else:
            connection.execute("BEGIN")
            try:
                for statement, values in statements:
                    connection.execute(statement, (_json_array(values),))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        self.commits += 1

    def close(self) -> None:
        """Close the database (after the writer has stopped)."""
        self._closed = True
        self._lookup.close()
        self._connection.close()


def _json_array(values: Sequence[object]) -> str:
    """``values`` as one JSON array: a whole batch goes to SQLite as one statement's parameter."""
    return orjson.dumps(values).decode()
