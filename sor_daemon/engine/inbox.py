"""A runner's inbox, and the one timer (``Alarms``) that ends every inbox's wait at its deadline.

Every live order has an inbox, and ten thousand idle orders must cost little: a Trio memory
channel pair costs about 1.7 KB, this is a list and a slot for the one task waiting on it.
Putting never waits (the engine and the FIX bridge must never block on a runner).

A runner waits for its next message or its next slice, whichever comes first. Bounding each wait
with a cancel scope cost about a tenth of the Trio thread with a thousand orders slicing every
second (entering and leaving the scope, Trio's deadline bookkeeping, cancelling the wait). So the
waits share one task: an inbox asks ``Alarms`` to ring at its reader's deadline, and the ringing
wakes the reader with nothing; a wait ended by a message leaves its alarm to ring for nothing.
A slice planned ahead of its due time rings on the same task to be sent (``staging``).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import trio

T = TypeVar("T")


class Inbox(Generic[T]):
    """Messages for one reader task, in the order they were put; ``alarms`` bounds its waits."""

    __slots__ = ("_alarm_at", "_alarms", "_items", "_meanwhile", "_reader", "_until")

    def __init__(self, alarms: Alarms | None = None) -> None:
        self._items: list[T] = []
        self._reader: trio.lowlevel.Task | None = None
        self._meanwhile: Callable[[T], bool] | None = None
        """What the waiting reader has offered every message put (``get``)."""
        self._alarms = alarms
        self._until = math.inf
        """The waiting reader's deadline."""
        self._alarm_at = math.inf
        """The earliest alarm set for this inbox that has not rung yet."""

    def put(self, item: T) -> None:
        """Queue ``item`` and wake the reader if it is waiting, unless the waiting reader's
        ``meanwhile`` takes it; never blocks."""
        if self._reader is not None and self._meanwhile is not None and self._meanwhile(item):
            return
        self._items.append(item)
        self._wake_reader()

    def get_nowait(self) -> T:
        """The oldest message; raises ``trio.WouldBlock`` when there is none."""
        if not self._items:
            raise trio.WouldBlock
        return self._items.pop(0)

    async def get(
        self, deadline: float = math.inf, meanwhile: Callable[[T], bool] | None = None
    ) -> T | None:
        """The oldest message, waiting for one if need be until ``deadline`` (Trio's time),
        when it returns None. A checkpoint either way: a cancelled wait takes nothing out.

        While it waits, each message put is offered to ``meanwhile`` first (on the putter's
        task): one it returns True for is taken care of, and neither queued nor waking it."""
        if self._items or deadline <= trio.current_time():
            await trio.lowlevel.checkpoint()
            return self._items.pop(0) if self._items else None
        if self._reader is not None:
            raise trio.BusyResourceError("an inbox has one reader")
        if deadline < math.inf and self._alarms is None:
            raise ValueError("an inbox made without alarms cannot wait until a deadline")
        self._until = deadline
        self._set_alarm()
        self._reader = trio.lowlevel.current_task()
        self._meanwhile = meanwhile

        def abort(_: object) -> trio.lowlevel.Abort:
            self._reader = self._meanwhile = None
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)
        # Woken by a put, or by the alarm (and then a message may have come since).
        return self._items.pop(0) if self._items else None

    def wait_until(self, deadline: float) -> None:
        """Move the waiting reader's deadline, earlier or later, without waking it; nothing if
        no reader waits."""
        if self._reader is not None:
            self._until = deadline
            self._set_alarm()

    def ring(self, alarm_at: float, now: float) -> None:
        """The alarm set for ``alarm_at`` rang at ``now``: end the reader's wait if its
        deadline has come, or set the alarm again for a reader waiting longer."""
        if alarm_at == self._alarm_at:
            self._alarm_at = math.inf
        if self._reader is None:
            return
        if self._until <= now:
            self._wake_reader()
        else:
            self._set_alarm()

    def _set_alarm(self) -> None:
        """Make sure an alarm rings at the reader's deadline or before it."""
        if self._until < self._alarm_at and self._alarms is not None:
            self._alarm_at = self._until
            self._alarms.set(self._until, self)

    def _wake_reader(self) -> None:
        reader, self._reader = self._reader, None
        self._meanwhile = None
        if reader is not None:
            trio.lowlevel.reschedule(reader)


class Ringing(Protocol):
    """What an alarm rings: an inbox, or a staged slice (``staging``)."""

    def ring(self, alarm_at: float, now: float) -> None:
        """The alarm set for ``alarm_at`` rang at ``now``; must not block."""


class Alarms:
    """Rings each alarm at its time (Trio's), from one task (``run``)."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Ringing]] = []
        self._order = itertools.count()
        self._sleep: trio.CancelScope | None = None

    def set(self, at: float, ringing: Ringing) -> None:
        """Ring ``ringing`` at ``at``; never blocks."""
        heapq.heappush(self._due, (at, next(self._order), ringing))
        if self._sleep is not None and at < self._sleep.deadline:
            self._sleep.deadline = at

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Ring the alarms as they fall due, until cancelled."""
        task_status.started()
        while True:
            with trio.CancelScope(deadline=self._due[0][0] if self._due else math.inf) as sleep:
                self._sleep = sleep
                await trio.sleep_forever()
            self._sleep = None
            now = trio.current_time()
            while self._due and self._due[0][0] <= now:
                at, _, ringing = heapq.heappop(self._due)
                ringing.ring(at, now)
