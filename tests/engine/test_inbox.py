"""A runner's inbox: messages in order, a waiting reader woken, a cancelled wait losing nothing,
and waits with deadlines kept by the shared timers."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from sor_daemon.engine.inbox import Inbox
from sor_daemon.engine.timers import Timers


async def test_messages_come_out_in_the_order_they_were_put() -> None:
    inbox = Inbox[int](Timers())
    with pytest.raises(trio.WouldBlock):
        inbox.get_nowait()
    for number in (1, 2, 3):
        inbox.put(number)
    assert [await inbox.get(), inbox.get_nowait(), await inbox.get()] == [1, 2, 3]


async def test_a_waiting_reader_is_woken_by_a_put(nursery: trio.Nursery) -> None:
    inbox = Inbox[str](Timers())
    received: list[str] = []

    async def read() -> None:
        received.append(await inbox.get())

    nursery.start_soon(read)
    await trio.testing.wait_all_tasks_blocked()
    assert received == []
    inbox.put("report")
    await trio.testing.wait_all_tasks_blocked()
    assert received == ["report"]


async def test_a_wait_cut_short_takes_nothing_and_the_next_one_gets_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inbox = Inbox[str](Timers())
    with trio.move_on_after(5) as timeout:
        await inbox.get()
    assert timeout.cancelled_caught
    inbox.put("late")
    assert await inbox.get() == "late"


async def test_only_one_task_may_wait(nursery: trio.Nursery) -> None:
    inbox = Inbox[str](Timers())
    nursery.start_soon(inbox.get)
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(trio.BusyResourceError):
        await inbox.get()
    inbox.put("for the first reader")


async def test_a_wait_until_a_deadline_ends_at_it_with_nothing(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    timers = Timers()
    nursery.start_soon(timers.run)
    inbox = Inbox[str](timers)
    start = trio.current_time()
    assert await inbox.get_until(start + 5) is None
    assert trio.current_time() == start + 5


async def test_a_message_ends_a_wait_before_its_deadline(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    timers = Timers()
    nursery.start_soon(timers.run)
    inbox = Inbox[str](timers)
    start = trio.current_time()

    async def report_later() -> None:
        await trio.sleep(2)
        inbox.put("report")

    nursery.start_soon(report_later)
    assert await inbox.get_until(start + 5) == "report"
    assert trio.current_time() == start + 2
    assert await inbox.get_until(start + 5) is None  # the same deadline, kept by the first entry
    assert trio.current_time() == start + 5


async def test_an_earlier_deadline_wakes_first_and_a_passed_one_at_once(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    timers = Timers()
    nursery.start_soon(timers.run)
    late, soon = Inbox[str](timers), Inbox[str](timers)
    start = trio.current_time()
    woken: list[tuple[str, float]] = []

    async def wait(name: str, inbox: Inbox[str], deadline: float) -> None:
        assert await inbox.get_until(deadline) is None
        woken.append((name, trio.current_time() - start))

    nursery.start_soon(wait, "late", late, start + 60)
    await trio.testing.wait_all_tasks_blocked()
    nursery.start_soon(wait, "soon", soon, start + 1)
    await trio.sleep(61)
    assert woken == [("soon", 1), ("late", 60)]
    inbox = Inbox[str](timers)
    inbox.put("waiting")
    assert await inbox.get_until(trio.current_time() - 1) == "waiting"
    assert await inbox.get_until(trio.current_time() - 1) is None


async def test_a_wait_without_a_deadline_lasts_until_a_message(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    inbox = Inbox[str](Timers())
    with trio.move_on_after(3600) as timeout:
        await inbox.get_until(math.inf)
    assert timeout.cancelled_caught
    inbox.put("at last")
    assert await inbox.get_until(math.inf) == "at last"
