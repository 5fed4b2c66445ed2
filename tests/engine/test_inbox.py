"""A runner's inbox: messages in order, a waiting reader woken, a cancelled wait losing nothing."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from sor_daemon.engine.inbox import Inbox


async def test_messages_come_out_in_the_order_they_were_put() -> None:
    inbox = Inbox[int]()
    with pytest.raises(trio.WouldBlock):
        inbox.get_nowait()
    for number in (1, 2, 3):
        inbox.put(number)
    assert [await inbox.get(), inbox.get_nowait(), await inbox.get()] == [1, 2, 3]


async def test_a_waiting_reader_is_woken_by_a_put(nursery: trio.Nursery) -> None:
    inbox = Inbox[str]()
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
    inbox = Inbox[str]()
    with trio.move_on_after(5) as timeout:
        await inbox.get()
    assert timeout.cancelled_caught
    inbox.put("late")
    assert await inbox.get() == "late"


async def test_only_one_task_may_wait(nursery: trio.Nursery) -> None:
    inbox = Inbox[str]()
    nursery.start_soon(inbox.get)
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(trio.BusyResourceError):
        await inbox.get()
    inbox.put("for the first reader")
