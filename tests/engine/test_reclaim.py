"""The reclaimer lets go of what it holds in an idle moment of the event loop, and within its
patience when the loop is never idle."""

from __future__ import annotations

import weakref

import trio
import trio.testing

from sor_daemon.engine.reclaim import Reclaimer


class Held:
    """Something a weak reference can watch."""


def watched_release(reclaimer: Reclaimer) -> weakref.ref[Held]:
    """Release a new ``Held`` and return a weak reference to it: the reclaimer has the only
    strong one."""
    held = Held()
    reclaimer.release(held)
    return weakref.ref(held)


async def test_what_is_released_is_let_go_only_once_the_loop_is_idle(
    nursery: trio.Nursery,
) -> None:
    reclaimer = Reclaimer()
    await nursery.start(reclaimer.run)
    first = watched_release(reclaimer)
    second = watched_release(reclaimer)
    for _ in range(50):  # this task stays runnable: the loop is not idle
        await trio.sleep(0)
    assert first() is not None and second() is not None
    # A longer cushion wakes after every idle moment the reclaimer waits for.
    await trio.testing.wait_all_tasks_blocked(cushion=0.01)
    assert first() is None and second() is None


async def test_a_loop_never_idle_still_lets_go_after_the_patience(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    reclaimer = Reclaimer(patience_seconds=2)
    await nursery.start(reclaimer.run)
    released_at = trio.current_time()
    held = watched_release(reclaimer)
    while held() is not None and trio.current_time() - released_at < 5:
        autojump_clock.jump(0.5)  # never idle: always runnable, moving the clock on by hand
        await trio.sleep(0)
    assert held() is None
    assert 2 <= trio.current_time() - released_at <= 2.5
