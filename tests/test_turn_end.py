"""Calls put off to the end of the scheduler's turn: made once the tasks ready now have had their
step, in order, and one that fails does not stop the others."""

from __future__ import annotations

import structlog
import trio

from sor_daemon.turn_end import at_turn_end, urgent_calls_now


async def test_calls_are_made_at_the_turns_end_in_order_and_survive_a_failing_one() -> None:
    seen: list[str] = []

    async def step(name: str) -> None:
        seen.append(name)
        at_turn_end(lambda: seen.append(f"after {name}"))

    def failing() -> None:
        raise RuntimeError("broken")

    with structlog.testing.capture_logs() as logs:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(step, "a")
            nursery.start_soon(step, "b")
            at_turn_end(failing)
            at_turn_end(lambda: seen.append("after the spawning step"))
    first_turn, second_turn = seen[:1], seen[1:]
    assert first_turn == ["after the spawning step"]
    assert sorted(second_turn[:2]) == ["a", "b"]
    assert second_turn[2:] == [f"after {name}" for name in second_turn[:2]]
    assert [entry["event"] for entry in logs] == ["a call put off to the end of a turn failed"]


async def test_urgent_calls_are_made_when_a_step_asks_and_the_others_at_the_turns_end() -> None:
    seen: list[str] = []
    at_turn_end(lambda: seen.append("helper write"))
    at_turn_end(lambda: seen.append("announcement"), urgent=True)
    at_turn_end(
        lambda: at_turn_end(lambda: seen.append("asked for by an announcement"), urgent=True),
        urgent=True,
    )
    urgent_calls_now()
    assert seen == ["announcement", "asked for by an announcement"]
    at_turn_end(lambda: seen.append("later announcement"), urgent=True)
    await trio.lowlevel.checkpoint()
    assert seen[2:] == ["later announcement", "helper write"]


def test_asking_for_urgent_calls_in_a_run_that_never_put_one_off_does_nothing() -> None:
    async def main() -> None:
        urgent_calls_now()

    trio.run(main)


class IoWaits(trio.abc.Instrument):
    """Counts the scheduler's waits for I/O."""

    def __init__(self) -> None:
        self.count = 0

    def before_io_wait(self, timeout: float) -> None:
        self.count += 1


async def test_a_call_that_makes_a_task_ready_wakes_a_scheduler_about_to_sleep() -> None:
    # The scheduler decided to sleep until the far deadline before the call set the event.
    ready = trio.Event()
    woken: list[str] = []

    async def waiter() -> None:
        await ready.wait()
        woken.append("waiter")

    with trio.move_on_after(60) as far_deadline:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            at_turn_end(ready.set)
    assert woken == ["waiter"]
    assert not far_deadline.cancelled_caught


async def test_a_call_that_brings_a_deadline_closer_wakes_a_scheduler_about_to_sleep() -> None:
    ended: list[str] = []

    async def sleeper(task_status: trio.TaskStatus[trio.CancelScope]) -> None:
        with trio.CancelScope() as scope:
            task_status.started(scope)
            await trio.sleep_forever()
        ended.append("sleeper")

    with trio.move_on_after(60) as far_deadline:
        async with trio.open_nursery() as nursery:
            scope = await nursery.start(sleeper)
            await trio.testing.wait_all_tasks_blocked()
            at_turn_end(lambda: setattr(scope, "deadline", trio.current_time()))
    assert ended == ["sleeper"]
    assert not far_deadline.cancelled_caught


async def test_a_call_that_makes_nothing_ready_lets_the_scheduler_sleep_on() -> None:
    waits = IoWaits()
    trio.lowlevel.add_instrument(waits)
    try:
        at_turn_end(lambda: None)
        await trio.sleep(0.05)
    finally:
        trio.lowlevel.remove_instrument(waits)
    # One wait for the sleep; a needless wake-up would have added a second.
    assert waits.count == 1
