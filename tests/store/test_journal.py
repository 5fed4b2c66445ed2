"""The SQLite journal: what goes in comes back, in order, exactly; torn tails and old or new
schemas are handled."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import weakref
from datetime import timedelta, timezone
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from sor_daemon.domain.events import (
    ChildPlanned,
    ChildReported,
    Event,
    OrderAccepted,
    ParametersChanged,
    SliceSkipped,
    StatusChanged,
)
from sor_daemon.domain.values import ChildStatus, OrderStatus
from sor_daemon.protocol.messages import Side
from sor_daemon.store.journal import (
    SCHEMA_VERSION,
    Batch,
    Journal,
    JournalClosed,
    open_database,
)
from sor_daemon.store.records import decode, encode
from sor_daemon.turn_end import at_turn_end
from tests.support.orders import START, params


def life_of_an_order(order_id: str = "o-1") -> list[Event]:
    later = START + timedelta(seconds=1)
    return [
        OrderAccepted(order_id, "TWAP", ("DERIBIT", "KRAKEN"), params(amount="2.5"), START),
        ChildPlanned(
            order_id,
            f"{order_id}-1",
            0,
            "DERIBIT",
            "DERIBIT_PERP_BTC_USD",
            "BTC-PERPETUAL",
            Side.BUY,
            Decimal("0.5"),
            Decimal("66437.5"),
            START,
        ),
        ChildReported(
            order_id,
            f"{order_id}-1",
            ChildStatus.FILLED,
            Decimal("0.5"),
            Decimal("66400.25"),
            None,
            None,
            "filled",
            later,
        ),
        SliceSkipped(order_id, 1, "nothing to trade", later),
        ParametersChanged(order_id, params(amount="3", interval="2SEC"), 2, later, "amend-1"),
        StatusChanged(order_id, OrderStatus.CANCELLED, "User requested cancel", later),
    ]


async def write(path: Path, *batches: list[Event]) -> Journal:
    journal = Journal(path)
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        for batch in batches:
            await journal.append(*batch)
        nursery.cancel_scope.cancel()
    return journal


async def test_replay_returns_exactly_what_was_appended(tmp_path: Path) -> None:
    events = life_of_an_order("o-1") + life_of_an_order("o-2")
    (await write(tmp_path / "j.sqlite", events[:3], events[3:])).close()
    reopened = Journal(tmp_path / "j.sqlite")
    assert list(reopened.replay()) == events
    reopened.close()


async def test_a_burst_of_appends_in_one_turn_is_one_commit(tmp_path: Path) -> None:
    """The idle writer is handed the batch at the end of the scheduler's turn, with what every
    task of the turn appended: the first append does not go alone."""
    journal = Journal(tmp_path / "j.sqlite")
    events = [life_of_an_order(f"o-{n}")[0] for n in range(100)]
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        async with trio.open_nursery() as writers:
            for event in events:
                writers.start_soon(journal.append, event)
        assert journal.commits == 1
        nursery.cancel_scope.cancel()
    assert sorted(map(str, journal.replay())) == sorted(map(str, events))
    journal.close()


async def test_then_is_called_once_durable_before_its_caller_wakes(tmp_path: Path) -> None:
    """``append``'s ``then``: on the turn that learns the events are durable, before the caller
    resumes, even a caller cancelled meanwhile; never for events that could not be written."""
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    first, second, third = (life_of_an_order(f"o-{n}") for n in range(1, 4))
    seen: list[str] = []

    def then(order_id: str) -> None:
        assert journal.events_of(order_id)  # durable already
        seen.append(f"{order_id} durable")

    async def cancel(scope: trio.CancelScope) -> None:
        scope.cancel()

    async def append_and_note(events: list[Event], order_id: str) -> None:
        await journal.append(*events, then=lambda: then(order_id))
        seen.append(f"{order_id} caller woke")

    with pytest.RaisesGroup(pytest.RaisesExc(JournalClosed)):
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            await append_and_note(first, "o-1")
            with trio.CancelScope() as cancelled:
                nursery.start_soon(cancel, cancelled)  # on the next turn, while it waits
                await append_and_note(second, "o-2")
            await journal.append(*life_of_an_order("o-9"))  # o-2's batch is durable by now
            with sqlite3.connect(path) as other:
                other.execute("DROP TABLE events")
            with pytest.raises(JournalClosed):
                await append_and_note(third, "o-3")
    assert seen == ["o-1 durable", "o-1 caller woke", "o-2 durable"]
    journal.close()


async def test_an_unawaited_append_is_durable_once_a_later_append_returns(
    tmp_path: Path,
) -> None:
    first, second = life_of_an_order("o-1"), life_of_an_order("o-2")
    journal = Journal(tmp_path / "j.sqlite")
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        journal.append_unawaited(*first[:2])
        await journal.append(*second)
        assert journal.events_of("o-1") == first[:2]
        journal.append_unawaited(*first[2:])
        nursery.cancel_scope.cancel()
    assert list(journal.replay()) == first[:2] + second + first[2:]
    with pytest.raises(JournalClosed, match="the journal is closed"):
        journal.append_unawaited(*first)
    journal.close()


async def test_events_appended_soon_take_effect_once_durable_and_their_batch_says_so(
    tmp_path: Path,
) -> None:
    events = life_of_an_order("o-1")
    journal = Journal(tmp_path / "j.sqlite")
    durable_then: list[list[Event]] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        batch = journal.append_soon(
            *events, then=lambda: durable_then.append(journal.events_of("o-1"))
        )
        assert durable_then == []
        await batch.wait()
        assert durable_then == [events]
        await batch.wait()  # a batch already durable answers at once
        nursery.cancel_scope.cancel()
    journal.close()


async def test_what_gathered_during_a_commit_goes_to_the_writer_before_the_commit_takes_effect(
    tmp_path: Path,
) -> None:
    """The writer commits the next batch while the Trio thread acts on the one just made
    durable: what the durable batch's callbacks append goes in a later commit than what was
    waiting. (Handing it over at the end of that turn left the writer idle meanwhile.)"""
    journal = Journal(tmp_path / "j.sqlite")
    committing, waiting, appended_then = (life_of_an_order(f"o-{n}") for n in (1, 2, 3))
    appended: list[Batch] = []

    def take_effect() -> None:
        appended.append(journal.append_soon(*appended_then, then=lambda: None))

    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*life_of_an_order("o-0"))
        writer = writer_process()
        os.kill(writer, signal.SIGSTOP)
        try:
            journal.append_soon(*committing, then=take_effect)
            await trio.testing.wait_all_tasks_blocked()  # handed to the stopped writer
            gathered = journal.append_soon(*waiting, then=lambda: None)
        finally:
            os.kill(writer, signal.SIGCONT)
        await gathered.wait()
        [later] = appended
        assert later is not gathered
        await later.wait()
        nursery.cancel_scope.cancel()
    assert list(journal.replay())[len(life_of_an_order()) :] == committing + waiting + appended_then
    journal.close()


async def test_what_a_commits_callbacks_announce_goes_out_in_the_step_that_learned_it(
    tmp_path: Path,
) -> None:
    """A fill announced when its commit is learned goes to the feed's subscribers then, not
    after every other task of the turn has had its step."""
    journal = Journal(tmp_path / "j.sqlite")
    made_in: list[trio.lowlevel.Task | None] = []

    def current_task() -> trio.lowlevel.Task | None:
        try:
            return trio.lowlevel.current_task()
        except RuntimeError:  # between the turn's steps, where the end of the turn is made
            return None

    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        [journal_task] = [task for task in nursery.child_tasks if task.name.endswith("Journal.run")]
        batch = journal.append_soon(
            *life_of_an_order(),
            then=lambda: at_turn_end(lambda: made_in.append(current_task()), urgent=True),
        )
        await batch.wait()
        nursery.cancel_scope.cancel()
    journal.close()
    assert made_in == [journal_task]


async def test_a_durable_batch_its_caller_keeps_holds_on_to_nothing_it_carried(
    tmp_path: Path,
) -> None:
    """A runner keeps its latest batch until it next acts, an hour for an hourly order: the
    callbacks the batch carried (every caller's, and what they hold) must not live as long."""

    class Effect:
        def __call__(self) -> None:
            """Take effect; all that matters here is when this object is freed."""

    journal = Journal(tmp_path / "j.sqlite")
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        effect = Effect()
        freed = weakref.ref(effect)
        batch = journal.append_soon(*life_of_an_order("o-1"), then=effect)
        del effect
        assert freed() is not None
        await batch.wait()
        assert freed() is None
        nursery.cancel_scope.cancel()
    journal.close()


async def test_a_batch_appended_soon_that_cannot_be_written_raises_when_waited_for(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    effects: list[str] = []
    with pytest.RaisesGroup(pytest.RaisesExc(JournalClosed)):
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            await journal.append(*life_of_an_order("o-1"))
            with sqlite3.connect(path) as other:
                other.execute("DROP TABLE events")
            batch = journal.append_soon(
                *life_of_an_order("o-2"), then=lambda: effects.append("o-2")
            )
            with pytest.raises(JournalClosed, match="could not write: no such table"):
                await batch.wait()
    assert effects == []
    journal.close()


async def test_a_batch_larger_than_the_pipe_to_the_writer_arrives_whole(tmp_path: Path) -> None:
    """A line the pipe cannot take at once (it holds 64 KiB) is written as the writer reads."""
    events = life_of_an_order("o-1")
    events[-1] = attrs.evolve(events[-1], info="é" * 400_000)
    journal = Journal(tmp_path / "j.sqlite")
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*events)
        await journal.append(*life_of_an_order("o-2"))
        nursery.cancel_scope.cancel()
    assert list(journal.replay()) == events + life_of_an_order("o-2")
    journal.close()


async def test_stopping_commits_every_append_already_gathered(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    events = [life_of_an_order(f"o-{n}")[0] for n in range(20)]
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        for event in events:
            nursery.start_soon(journal.append, event)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert sorted(map(str, journal.replay())) == sorted(map(str, events))
    journal.close()


async def test_a_failed_commit_closes_the_journal_and_stops_its_task(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    first, second = life_of_an_order("o-1"), life_of_an_order("o-2")
    stopped = pytest.RaisesGroup(
        pytest.RaisesExc(JournalClosed, match="could not write: no such table: events")
    )
    with stopped:
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            await journal.append(*first)
            with sqlite3.connect(path) as other:
                other.execute("DROP TABLE events")
            with pytest.raises(JournalClosed, match="could not write: no such table"):
                await journal.append(*second)
    assert not journal.is_open
    with pytest.raises(JournalClosed, match="the journal is closed"):
        await journal.append(*second)
    journal.close()


def writer_process() -> int:
    """The pid of this process's journal writer (``python -m sor_daemon.store.writer``)."""
    tasks = Path(f"/proc/{os.getpid()}/task").iterdir()
    children = [pid for task in tasks for pid in (task / "children").read_text().split()]
    for pid in children:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"sor_daemon.store.writer" in command:
            return int(pid)
    raise AssertionError(f"no journal writer among the child processes {children}")


async def test_a_writer_process_that_dies_closes_the_journal_and_stops_its_task(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    first, second = life_of_an_order("o-1"), life_of_an_order("o-2")
    stopped = pytest.RaisesGroup(
        pytest.RaisesExc(JournalClosed, match=r"the journal's writer process (exited|is gone)")
    )
    with stopped:
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            await journal.append(*first)
            os.kill(writer_process(), signal.SIGKILL)
            with pytest.raises(JournalClosed, match=r"writer process (exited|is gone)"):
                await journal.append(*second)
    assert not journal.is_open
    assert journal.events_of("o-1") == first
    assert journal.events_of("o-2") == []
    journal.close()


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
async def test_the_writer_outlives_the_signals_that_stop_the_daemon(
    tmp_path: Path, signal_number: int
) -> None:
    """A Ctrl-C or systemd's stop reaches every process of the daemon; the writer must still
    commit what the daemon journals while it stops."""
    journal = Journal(tmp_path / "j.sqlite")
    first, second = life_of_an_order("o-1"), life_of_an_order("o-2")
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*first)
        os.kill(writer_process(), signal_number)
        await journal.append(*second)
        nursery.cancel_scope.cancel()
    assert list(journal.replay()) == first + second
    journal.close()


async def test_a_torn_tail_loses_only_the_uncommitted_write(tmp_path: Path) -> None:
    first, second = life_of_an_order("o-1"), life_of_an_order("o-2")
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await journal.append(*first)
        await journal.append(*second)
        # Copy the files as a crash would leave them: the WAL not checkpointed, its last frame
        # half written.
        crashed = tmp_path / "crashed"
        crashed.mkdir()
        shutil.copy(path, crashed / "j.sqlite")
        wal = path.with_name("j.sqlite-wal")
        torn = wal.read_bytes()
        (crashed / "j.sqlite-wal").write_bytes(torn[: len(torn) - 200])
        nursery.cancel_scope.cancel()
    journal.close()
    recovered = Journal(crashed / "j.sqlite")
    assert list(recovered.replay()) == first
    recovered.close()


def test_the_schema_is_versioned_and_a_fresh_file_is_migrated(tmp_path: Path) -> None:
    connection = open_database(tmp_path / "j.sqlite")
    assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    connection.close()
    again = open_database(tmp_path / "j.sqlite")
    assert again.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    again.close()


def test_a_journal_from_a_newer_daemon_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer sor-daemon"):
        open_database(path)


def test_rows_written_before_client_references_still_read() -> None:
    """A row without ``client_ref`` (journals of earlier versions) reads as one without."""
    for event in life_of_an_order()[-2:]:
        _, kind, body = encode(event)
        old = json.loads(body)
        old.pop("client_ref")
        assert decode(kind, json.dumps(old)) == attrs.evolve(event, client_ref=None)


def test_times_are_kept_to_the_microsecond_in_utc() -> None:
    """orjson writes each time (RFC 3339); it reads back as the very instant, in UTC."""
    moment = START.replace(microsecond=906299)
    away = moment.astimezone(timezone(timedelta(hours=-5)))
    written = []
    for at in (moment, away, START):
        event = StatusChanged("o-1", OrderStatus.RUNNING, None, at)
        _, kind, body = encode(event)
        written.append(json.loads(body)["at"])
        assert decode(kind, body) == event
        assert decode(kind, body).at.utcoffset() == timedelta(0)
    assert written == [
        "2024-07-24T09:41:40.906299Z",
        "2024-07-24T04:41:40.906299-05:00",
        "2024-07-24T09:41:40Z",
    ]


def test_rows_written_with_seven_fraction_digits_still_read() -> None:
    """Journals of earlier versions wrote times as CoinAPI does: ``...T09:42:14.9062990Z``."""
    for event in life_of_an_order():
        _, kind, body = encode(event)
        old, times = re.subn(
            r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z"',
            lambda time: f'"{time[1]}.{(time[2] or "").ljust(6, "0")}0Z"',
            body,
        )
        assert times >= 1 and re.search(r'\.\d{7}Z"', old)
        assert decode(kind, old) == event
