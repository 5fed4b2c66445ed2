"""One timer for every runner: the deadlines of waiting inboxes in a heap, served by one task.

A runner waits for its next slice or its next message, whichever comes first. With a Trio cancel
scope per wait, each of a thousand runners registers, cancels and unwinds a scope of its own for
every slice, and the profile showed that bookkeeping at about an eighth of the Trio thread. Here a
wait is a heap entry: one task sleeps until the earliest deadline and then wakes, in one pass,
every inbox whose deadline has come (the orders due at the same instant all wake together).

An inbox keeps the deadline it has an entry for, so waiting again for the same slice after a
report pushes nothing; an entry whose wait has ended or moved is dropped when it comes due.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import Protocol

import trio


class Alarm(Protocol):
    """What the timers wake: an inbox whose wait may have reached its deadline."""

    def ring(self, deadline: float, now: float) -> None:
        """The entry for ``deadline`` came due at Trio time ``now``."""
        ...


class Timers:
    """Deadlines (Trio times) of waiting inboxes; ``run`` must be running for them to ring."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._sleep: trio.CancelScope | None = None

    def arm(self, deadline: float, alarm: Alarm) -> None:
        """Ring ``alarm`` once Trio's clock reaches ``deadline``."""
        heapq.heappush(self._heap, (deadline, next(self._order), alarm))
        if self._sleep is not None and deadline < self._sleep.deadline:
            self._sleep.deadline = deadline

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Ring every alarm as its deadline comes, until cancelled."""
        task_status.started()
        while True:
            with trio.CancelScope(deadline=self._heap[0][0] if self._heap else math.inf) as sleep:
                self._sleep = sleep
                await trio.sleep_forever()
            self._sleep = None
            now = trio.current_time()
            while self._heap and self._heap[0][0] <= now:
                deadline, _, alarm = heapq.heappop(self._heap)
                alarm.ring(deadline, now)
