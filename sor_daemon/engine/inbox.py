"""A runner's inbox: an unbounded queue with one reader, as small as a list.

Every live order has one, and ten thousand idle orders must cost little: a Trio memory channel
pair costs about 1.7 KB, this is a list and a slot for the one task waiting on it. Putting never
waits (the engine and the FIX bridge must never block on a runner). A wait may have a deadline,
kept by the shared ``Timers`` rather than by a cancel scope of the runner's own.
"""

from __future__ import annotations

import math
from typing import Generic, TypeVar

import trio

from sor_daemon.engine.timers import Timers

T = TypeVar("T")


class Inbox(Generic[T]):
    """Messages for one reader task, in the order they were put."""

    __slots__ = ("_armed", "_deadline", "_items", "_reader", "_timers")

    def __init__(self, timers: Timers) -> None:
        self._items: list[T] = []
        self._reader: trio.lowlevel.Task | None = None
        self._timers = timers
        self._deadline: float | None = None
        """The deadline of the wait in progress, if it has one."""
        self._armed: float | None = None
        """The deadline the timers hold an entry for (reused by the next wait for it)."""

    def put(self, item: T) -> None:
        """Queue ``item`` and wake the reader if it is waiting; never blocks."""
        self._items.append(item)
        self._wake()

    def get_nowait(self) -> T:
        """The oldest message; raises ``trio.WouldBlock`` when there is none."""
        if not self._items:
            raise trio.WouldBlock
        return self._items.pop(0)

    async def get(self) -> T:
        """The oldest message, waiting for one if need be (a checkpoint either way: a
        cancelled wait takes nothing out)."""
        if self._items:
            await trio.lowlevel.checkpoint()
        else:
            await self._wait(None)
        return self._items.pop(0)

    async def get_until(self, deadline: float) -> T | None:
        """The oldest message, or None once Trio's clock reaches ``deadline`` (``math.inf``:
        never) with none come; a checkpoint either way."""
        if self._items or deadline <= trio.current_time():
            await trio.lowlevel.checkpoint()
        else:
            if deadline != math.inf and self._armed != deadline:
                self._timers.arm(deadline, self)
                self._armed = deadline
            await self._wait(deadline)
        return self._items.pop(0) if self._items else None

    def ring(self, deadline: float, now: float) -> None:
        """The timers' entry for ``deadline`` came due: wake a wait whose deadline has come."""
        if self._armed == deadline:
            self._armed = None
        if self._deadline is not None and self._deadline <= now:
            self._wake()

    async def _wait(self, deadline: float | None) -> None:
        if self._reader is not None:
            raise trio.BusyResourceError("an inbox has one reader")
        self._reader = trio.lowlevel.current_task()
        self._deadline = deadline

        def abort(_: object) -> trio.lowlevel.Abort:
            self._reader = self._deadline = None
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def _wake(self) -> None:
        reader, self._reader, self._deadline = self._reader, None, None
        if reader is not None:
            trio.lowlevel.reschedule(reader)
