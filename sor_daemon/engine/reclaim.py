"""Freeing what retired orders held, in the moments the event loop has nothing else to do.

A retired order is dropped from memory with everything it kept: a ten-minute TWAP slicing every
second holds some 15,000 objects (its children, fills and market samples as rows), and freeing
them took about 1.4 ms of the Trio thread at the end of the schedule benchmark. A thousand
orders started together end together, a few hundred a second, while the rest still slice: freed
as each runner ended, they held the slices still due for 40 to 130 ms. So the engine hands a
finished runner here, and the last reference to it is let go only once every task is blocked
(Trio's idle moment, ``trio.testing.wait_all_tasks_blocked``: the one public way to wait for
it), one runner a moment. A loop that is never idle still frees each within
``patience_seconds`` (5 s by default).
"""

from __future__ import annotations

import math

import trio
import trio.testing

DEFAULT_PATIENCE_SECONDS = 5.0


class Reclaimer:
    """Holds finished things until an idle moment of the event loop, then lets them go."""

    def __init__(self, patience_seconds: float = DEFAULT_PATIENCE_SECONDS) -> None:
        self._patience = patience_seconds
        self._send, self._receive = trio.open_memory_channel[tuple[float, object]](math.inf)

    def release(self, held: object) -> None:
        """Let go of ``held`` in an idle moment, or ``patience_seconds`` from now at the
        latest; never blocks."""
        self._send.send_nowait((trio.current_time() + self._patience, held))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Let go of what was released, one thing an idle moment, until cancelled."""
        task_status.started()
        while True:
            await self._let_go_of_next()

    async def _let_go_of_next(self) -> None:
        """Wait for the next thing released and an idle moment; returning drops the thing (the
        one reference left to it, in this frame)."""
        latest, _held = await self._receive.receive()
        with trio.move_on_at(latest):
            await trio.testing.wait_all_tasks_blocked()
