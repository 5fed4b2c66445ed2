"""The journal: every smart order event, durable in SQLite before it takes effect.

Callers ``await journal.append(...)``; their rows join the batch being gathered on the Trio
thread. The journal's writer is a process of its own (``store.writer``) with one batch at a
time: an idle writer is handed the batch at the end of the scheduler's turn (``turn_end``), with
what every task of the turn appended, and while it commits, what is appended gathers into the
next batch, handed over the moment its answer is read (group commit): the writer commits it
while the Trio thread acts on the batch just made durable, instead of after. So a burst of
events costs one fsync, and no caller waits longer than one commit behind the one in
progress. Every caller of a batch waits on the batch's one event: a thousand orders slicing at
once cost one wake-up object, not one each. SQLite runs in WAL mode with ``synchronous=FULL``:
a commit that returned survives a crash of the process or the machine; a torn, uncommitted
tail is discarded by SQLite on the next open.

The writer is a process, not a thread, so that nothing on a commit's way waits for the GIL: a
writer thread had to take it back from the busy Trio thread to wake up, after each step into
SQLite, and to hand the outcome over, and at 500 fills a second that made the round trip's p99
5 to 9 ms for a commit of half a millisecond. Now the Trio thread writes a batch as one line to
a pipe, without waiting, and reads the writer's answer from another as it reads any socket.
Tests on Trio's mock clock commit on the Trio thread instead (``commit_on_trio_thread``), with
the same ``BatchWriter``.

A smart order that is over (terminal, no child order left open) is *retired*: a row in the
``retired`` table and out of the ``live`` one, written through the same writer, and its events
indexed by order (``order_events``; see ``writer.BatchWriter``). Recovery replays only the
orders listed live, reading the events written since the oldest of them started, and the engine
keeps no retired order in memory: one is read back from SQLite, by that index, when it is asked
for. So memory follows the orders that are live, and start-up time the stretch of history they
span, not the whole of it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import attrs
import orjson
import structlog
import trio

from sor_daemon.domain.events import Event
from sor_daemon.pipes import LineReader, PipeWriter
from sor_daemon.store.history import ACCEPTED_INDEX, OrderHistory, read_events_of
from sor_daemon.store.records import decode, encode
from sor_daemon.store.writer import FAILED, LIVE_EVENTS, BatchWriter
from sor_daemon.turn_end import at_turn_end, urgent_calls_now

log = structlog.get_logger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 4
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
    4: (
        "CREATE TABLE order_events (order_id TEXT PRIMARY KEY, seqs TEXT NOT NULL)",
        "INSERT INTO order_events SELECT order_id, json_group_array(seq) FROM (SELECT e.order_id, "
        "e.seq FROM retired AS r JOIN events AS e ON e.order_id = r.order_id) GROUP BY order_id",
        "ALTER TABLE live ADD COLUMN first_seq INTEGER",
        "UPDATE live SET first_seq = "
        "(SELECT min(seq) FROM events WHERE events.order_id = live.order_id)",
        "DROP INDEX events_by_order",
    ),
}
_HAS_ORDER = (
    "SELECT 1 FROM live WHERE order_id = ?1 UNION ALL SELECT 1 FROM retired WHERE order_id = ?1"
)


class JournalClosed(RuntimeError):
    """The journal's writer is gone: nothing more can be made durable."""


@attrs.define
class Batch:
    """What one transaction will write, and the one event its callers wait on."""

    rows: list[tuple[str, str, str]] = attrs.Factory(list)
    retired: list[tuple[str, str, str | None]] = attrs.Factory(list)
    then: list[Callable[[], None]] = attrs.Factory(list)
    """What its callers asked to be done the moment it is durable (``append``'s ``then``)."""
    done: trio.Event = attrs.Factory(trio.Event)
    error: str | None = None
    """Why the batch could not be written, once it could not."""

    def __bool__(self) -> bool:
        return bool(self.rows or self.retired)

    def durable(self) -> None:
        """It is durable: do what its callers asked for then, and wake them. What it held goes
        with that: a caller may keep the batch long after (a runner keeps its latest until it
        next acts, an hour for an order that slices hourly), and with it every other caller's
        rows and callbacks."""
        then, self.then = self.then, []
        self.rows, self.retired = [], []
        for call in then:
            call()
        self.done.set()

    async def wait(self) -> None:
        """Return once it is durable; raise JournalClosed if it cannot be."""
        if not self.done.is_set():
            await self.done.wait()
        if self.error is not None:
            raise JournalClosed(f"the journal could not write: {self.error}")


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
        """Commits run in the writer process; tests on Trio's mock clock pass
        ``commit_on_trio_thread``, because time jumps while Trio waits for another process.
        ``observe_commit`` is told each commit's wall-clock seconds (for the metrics)."""
        self.path = path
        self._on_trio_thread = commit_on_trio_thread
        self._observe_commit = observe_commit
        self._connection = open_database(path)
        self._lookup = sqlite3.connect(path)
        self._batch = Batch()
        self._gathering = trio.Event()
        """Set once the batch being gathered has something in it (Trio-thread commits)."""
        self._pipe: PipeWriter | None = None
        """The writer process's stdin, while it runs."""
        self._sent: deque[tuple[int, Batch]] = deque()
        """Batches handed to the writer process and not yet durable, numbered in order."""
        self._numbered = 0
        self._hand_over_due = False
        self._failure: str | None = None
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
        for kind, body in self._connection.execute(f"SELECT kind, body {LIVE_EVENTS}"):
            yield decode(kind, body)

    def retired_statuses(self) -> Counter[str]:
        """How many retired orders ended in each status (call before the writer runs)."""
        rows = self._connection.execute("SELECT status, count(*) FROM retired GROUP BY status")
        return Counter(dict(rows))

    def events_of(self, order_id: str) -> list[Event]:
        """One order's events, read back on the Trio thread, for an order that is not in memory:
        an indexed read of a few rows for a retired one; for one just accepted (in the journal,
        not yet in memory), a scan from its first event."""
        return read_events_of(self._lookup, [order_id]).get(order_id, [])

    def has_order(self, order_id: str) -> bool:
        """True when ``order_id`` was ever accepted: it is live or retired (an indexed read,
        Trio thread)."""
        return self._lookup.execute(_HAS_ORDER, (order_id,)).fetchone() is not None

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

    async def append(self, *events: Event, then: Callable[[], None] | None = None) -> None:
        """Return once every event is durable; raises JournalClosed if it cannot be.

        ``then`` is called the moment they are durable, on the turn of the scheduler that
        learns it, before the caller wakes (a turn later): a runner announces a fill there. It
        is called even if the caller was cancelled meanwhile, and never if the events could not
        be made durable; it must not raise or block."""
        if events:
            await self._enqueue([encode(event) for event in events], [], then)

    def append_soon(self, *events: Event, then: Callable[[], None]) -> Batch:
        """Queue events and return without waiting: ``then`` is called the moment they are
        durable, as with ``append``, and the batch returned tells when that was (or that it
        could not be)."""
        batch = self._gather([encode(event) for event in events], [])
        batch.then.append(then)
        return batch

    def append_unawaited(self, *events: Event) -> None:
        """Queue events without waiting for them to be durable: they are once any later
        append has returned (batches commit in order). For events nothing is announced for;
        a failed commit still closes the journal and stops ``run``. Raises JournalClosed."""
        self._gather([encode(event) for event in events], [])

    async def _enqueue(
        self,
        rows: list[tuple[str, str, str]],
        retired: list[tuple[str, str, str | None]],
        then: Callable[[], None] | None = None,
    ) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()  # a task being stopped stops here
        batch = self._gather(rows, retired)
        if then is not None:
            batch.then.append(then)
        await batch.wait()

    def _gather(
        self, rows: list[tuple[str, str, str]], retired: list[tuple[str, str, str | None]]
    ) -> Batch:
        """Add rows to the batch being gathered; that batch."""
        if self._closed:
            raise JournalClosed("the journal is closed")
        batch = self._batch
        batch.rows += rows
        batch.retired += retired
        if self._on_trio_thread:
            self._gathering.set()
        else:
            self._hand_over_at_turn_end()
        return batch

    def _hand_over_at_turn_end(self) -> None:
        """Hand the writer what is gathered at the end of the scheduler's turn, when every task
        of the turn has added to it: one commit for all of it."""
        if not self._hand_over_due:
            self._hand_over_due = True
            at_turn_end(self._hand_over)

    def _hand_over(self) -> None:
        self._hand_over_due = False
        self._send_if_idle()

    def _take_batch(self) -> Batch:
        """The batch gathered so far; the next callers gather a new one."""
        batch, self._batch = self._batch, Batch()
        return batch

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Commit whatever is gathered until cancelled (then what was gathered before), or
        until a commit fails or the writer process ends (then raise ``JournalClosed``)."""
        if self._on_trio_thread:
            await self._commit_on_trio_thread(task_status)
        else:
            await self._commit_in_writer(task_status)

    async def _commit_on_trio_thread(self, task_status: trio.TaskStatus[None]) -> None:
        """``run`` for tests on the mock clock: each batch committed on the Trio thread."""
        writer = BatchWriter(self._connection)
        task_status.started()
        try:
            while True:
                await self._gathering.wait()
                self._gathering = trio.Event()
                self._commit_here(writer, self._take_batch())
        finally:
            self._closed = True
            self._commit_here(writer, self._take_batch())

    def _commit_here(self, writer: BatchWriter, batch: Batch) -> None:
        if not batch:
            return
        started = time.perf_counter()
        try:
            writer.write([(batch.rows, batch.retired)])
        except Exception as error:
            self._fail(str(error), batch)
            raise JournalClosed(f"the journal could not write: {error}") from error
        self._committed(time.perf_counter() - started)
        batch.durable()

    async def _commit_in_writer(self, task_status: trio.TaskStatus[None]) -> None:
        """``run`` with the writer process: batches go to it from ``_gather`` and from each of
        its answers, and each answer wakes the callers of the batches it made durable. On the
        way out, what was gathered goes to it, and it is waited for until everything is durable
        and it has exited."""
        command = [sys.executable, "-m", "sor_daemon.store.writer", str(self.path)]
        reading_end, writing_end = os.pipe()
        try:
            process = await trio.lowlevel.open_process(
                command, stdin=reading_end, stdout=subprocess.PIPE
            )
        except BaseException:
            self._closed = True
            os.close(writing_end)
            raise
        finally:
            os.close(reading_end)
        assert process.stdout is not None
        self._pipe = pipe = PipeWriter(writing_end, self._writer_gone)
        answers = LineReader(process.stdout)
        task_status.started()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pipe.run)
                while self._failure is None:
                    await self._take_answer(answers)
                nursery.cancel_scope.cancel()
        finally:
            self._closed = True
            with trio.CancelScope(shield=True):
                self._send_if_idle()
                while self._sent and self._failure is None:
                    await pipe.flush()
                    await self._take_answer(answers)
                self._pipe = None
                pipe.close()
                await process.wait()
                await process.stdout.aclose()
        raise JournalClosed(f"the journal could not write: {self._failure}")

    def _send_if_idle(self, *, at_once: bool = False) -> None:
        """Hand the writer the batch gathered so far, unless it is still busy with one: what
        gathers meanwhile goes as one batch when it answers (group commit). The batch is
        written to the pipe at the end of the turn, or ``at_once``."""
        if self._pipe is None or self._sent or not self._batch or self._failure is not None:
            return
        batch = self._take_batch()
        self._numbered += 1
        self._sent.append((self._numbered, batch))
        line = orjson.dumps([self._numbered, batch.rows, batch.retired]) + b"\n"
        if at_once:
            self._pipe.write_at_once(line)
        else:
            self._pipe.write(line)

    def _writer_gone(self, error: OSError) -> None:
        self._fail(f"the journal's writer process is gone ({error.strerror})")

    async def _take_answer(self, answers: LineReader) -> None:
        """Read the writer's next answer: hand it what gathered meanwhile, then wake the
        callers of every batch it made durable, and send what their callbacks announced at
        once (``urgent_calls_now``), not after the turn's other tasks; or, if a commit
        failed or the writer is gone, fail every batch not yet durable."""
        answer = await answers.next()
        if answer is None:
            self._fail("the journal's writer process exited")
            return
        number, detail = orjson.loads(answer)
        if number == FAILED:
            self._fail(detail)
            return
        durable = []
        while self._sent and self._sent[0][0] <= number:
            durable.append(self._sent.popleft()[1])
        self._send_if_idle(at_once=True)
        for batch in durable:
            batch.durable()
        self._committed(detail)
        self._hand_over_at_turn_end()
        urgent_calls_now()

    def _committed(self, seconds: float) -> None:
        self.commits += 1
        if self._observe_commit is not None:
            self._observe_commit(seconds)

    def _fail(self, reason: str, *batches: Batch) -> None:
        """Close the journal: ``batches``, those handed to the writer and not yet durable, and
        what gathered meanwhile all fail with ``reason``."""
        if self._failure is None:
            log.error("journal write failed", error=reason)
            self._failure = reason
        self._closed = True
        sent = [batch for _, batch in self._sent]
        self._sent.clear()
        for batch in [*batches, *sent, self._take_batch()]:
            batch.error = reason
            batch.done.set()

    def close(self) -> None:
        """Close the database (after the writer has stopped)."""
        self._closed = True
        self._lookup.close()
        self._connection.close()
