"""A runner's inbox: an unbounded queue with one reader, as small as a list.

Every live order has one, and ten thousand idle orders must cost little: a Trio memory channel
pair costs about 1.7 KB, this is a list and a slot for the one task waiting on it. Putting never
waits (the engine and the FIX bridge must never block on a runner).
"""

from __future__ import annotations

from typing import Generic, TypeVar

import trio

T = TypeVar("T")


class Inbox(Generic[T]):
    """Messages for one reader task, in the order they were put."""

    __slots__ = ("_items", "_reader")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._reader: trio.lowlevel.Task | None = None

    def put(self, item: T) -> None:
        """Queue ``item`` and wake the reader if it is waiting; never blocks."""
        self._items.append(item)
        reader, self._reader = self._reader, None
        if reader is not None:
            trio.lowlevel.reschedule(reader)

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
            if self._reader is not None:
                raise trio.BusyResourceError("an inbox has one reader")
            self._reader = trio.lowlevel.current_task()

            def abort(_: object) -> trio.lowlevel.Abort:
                self._reader = None
                return trio.lowlevel.Abort.SUCCEEDED

            await trio.lowlevel.wait_task_rescheduled(abort)
        return self._items.pop(0)
