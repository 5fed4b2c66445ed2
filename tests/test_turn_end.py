"""Calls put off to the end of the scheduler's turn: made once the tasks ready now have had their
step, in order, and one that fails does not stop the others."""

from __future__ import annotations

import structlog
import trio

from sor_daemon.turn_end import at_turn_end


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
