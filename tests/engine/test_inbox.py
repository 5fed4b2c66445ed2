"""A runner's inbox: messages in order, a waiting reader woken (or not, for what it takes while
it waits), a cancelled wait losing nothing, and a wait ended at its deadline by the shared
alarms, a deadline that can be moved while the reader waits."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from sor_daemon.engine.inbox import Alarms, Inbox


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


async def test_what_the_waiting_reader_takes_meanwhile_neither_queues_nor_wakes_it(
    nursery: trio.Nursery,
) -> None:
    inbox = Inbox[str]()
    taken: list[str] = []
    received: list[str | None] = []

    def take_reports(message: str) -> bool:
        if message.startswith("report"):
            taken.append(message)
            return True
        return False

    async def read() -> None:
        received.append(await inbox.get(meanwhile=take_reports))
        received.append(await inbox.get())

    nursery.start_soon(read)
    await trio.testing.wait_all_tasks_blocked()
    inbox.put("report 1")
    inbox.put("report 2")
    await trio.testing.wait_all_tasks_blocked()
    assert taken == ["report 1", "report 2"] and received == []
    inbox.put("cancel")  # not taken: it wakes the reader
    inbox.put("report 3")  # put while the reader is awake: queued for it
    await trio.testing.wait_all_tasks_blocked()
    assert taken == ["report 1", "report 2"] and received == ["cancel", "report 3"]


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


async def running_alarms(nursery: trio.Nursery) -> Alarms:
    alarms = Alarms()
    await nursery.start(alarms.run)
    return alarms


async def receiving(nursery: trio.Nursery, seconds: float, item: str) -> tuple[Inbox[str], float]:
    """An inbox with running alarms, and Trio's time now; ``item`` is put in ``seconds`` later."""
    inbox = Inbox[str](await running_alarms(nursery))
    nursery.start_soon(_put_after, inbox, seconds, item)
    return inbox, trio.current_time()


async def test_a_wait_ends_with_nothing_at_its_deadline(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    inbox = Inbox[str](await running_alarms(nursery))
    start = trio.current_time()

    assert await inbox.get(start + 5) is None
    assert trio.current_time() == start + 5


async def test_waits_end_each_at_its_own_deadline_whatever_the_order_they_were_set(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    alarms = await running_alarms(nursery)
    start = trio.current_time()
    ended: dict[str, float] = {}

    async def wait(name: str, seconds: float) -> None:
        assert await Inbox[str](alarms).get(start + seconds) is None
        ended[name] = trio.current_time() - start

    for name, seconds in (("late", 9), ("early", 2), ("middle", 4)):
        nursery.start_soon(wait, name, seconds)
    await trio.sleep(10)

    assert ended == {"early": 2, "middle": 4, "late": 9}


async def test_a_message_ends_the_wait_and_its_alarm_does_not_cut_the_next_wait_short(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    inbox, start = await receiving(nursery, 1, "report")

    assert await inbox.get(start + 3) == "report"
    assert await inbox.get(start + 8) is None
    assert trio.current_time() == start + 8


async def test_a_wait_without_deadline_is_not_ended_by_an_earlier_waits_alarm(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    inbox, start = await receiving(nursery, 1, "report")
    assert await inbox.get(start + 3) == "report"

    with trio.move_on_after(10) as timeout:
        await inbox.get()

    assert timeout.cancelled_caught
    assert trio.current_time() == start + 11


@pytest.mark.parametrize("moved_to", [2, 7, math.inf])
async def test_a_waiting_readers_deadline_moves_earlier_or_later_without_waking_it(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, moved_to: float
) -> None:
    inbox = Inbox[str](await running_alarms(nursery))
    start = trio.current_time()

    async def move_deadline() -> None:
        await trio.sleep(1)
        inbox.wait_until(start + moved_to)

    nursery.start_soon(move_deadline)
    with trio.move_on_after(10):
        assert await inbox.get(start + 4) is None
    assert trio.current_time() == start + min(moved_to, 10)


async def test_a_message_that_comes_as_the_alarm_rings_is_not_lost(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    inbox, start = await receiving(nursery, 3, "on the dot")

    received = await inbox.get(start + 3)

    assert received == "on the dot" or inbox.get_nowait() == "on the dot"


async def test_a_deadline_already_past_returns_what_is_there_without_waiting() -> None:
    inbox = Inbox[str]()
    assert await inbox.get(trio.current_time() - 1) is None
    inbox.put("waiting")
    assert await inbox.get(trio.current_time() - 1) == "waiting"


async def test_an_inbox_without_alarms_cannot_wait_until_a_deadline() -> None:
    with pytest.raises(ValueError, match="without alarms"):
        await Inbox[str]().get(trio.current_time() + 1)


async def _put_after(inbox: Inbox[str], seconds: float, item: str) -> None:
    await trio.sleep(seconds)
    inbox.put(item)
