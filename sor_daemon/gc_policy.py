"""Garbage collection for processes whose heap grows with their work, without its pauses.

CPython's collector walks the young objects every 700 net allocations, the middle generation
every tenth time, and every object it tracks each time the old generation has grown by a
quarter. The daemon allocates a few dozen tracked objects a child order, and many live about a
second (a runner's wait in its inbox, a slice staged for its due time), long enough to be walked
young, walked again in the middle generation, and promoted. Under the throughput benchmark that
was 9% of the daemon's CPU (6.0 s of 67.5 s): a young collection every 30 children or so, up to
30 ms, and a middle one every 300, 10.6 ms on average and up to 53 ms, each holding up every
slice due and every fill waiting meanwhile. And those walks found next to nothing: 341 objects
in reference cycles in the whole run of some 100,000 children. Everything else the daemon drops
is freed by reference counting the moment it is dropped.

So the daemon (``GrowthCollector``) turns automatic collection off, and walks everything once
the heap has grown to ``growth`` times its size after the last walk: memory held by cyclic
garbage stays within that factor of the live heap, and walks become rarer as the heap grows
instead of more frequent.

The simulator (``FreezingCollector``) keeps every order it was ever sent, as an EMS keeps its
order history: its heap only grows, and a walk of all of it took 1.1 s at 2.5 million objects.
It leaves CPython's collections on, and moves what survives each full collection to the
permanent generation (``gc.freeze``), so the next one walks only what is new. Frozen objects
are still freed by reference counting; only garbage in cycles among them stays.

The heap is measured as the blocks the object allocator has handed out
(``sys.getallocatedblocks``), which reads each memory pool's count: 0.2 ms with 1.4 million
objects tracked. Counting the tracked objects instead (``gc.get_objects``,
``gc.get_freeze_count``) walks every one of them: 13 ms for those, on the Trio thread. Cyclic
garbage holds blocks like anything else, so it counts towards the growth directly.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import attrs
import trio

DEFAULT_GROWTH = 2.0
CHECK_INTERVAL_SECONDS = 1.0


@attrs.define
class GrowthCollector:
    """No collection until the heap has grown by ``growth`` since the last one; then one that
    walks everything. ``run`` looks every ``check_interval`` seconds."""

    growth: float = DEFAULT_GROWTH
    check_interval: float = CHECK_INTERVAL_SECONDS
    complete_walks: int = 0
    """How many collections walked the heap (for tests and the curious)."""
    _heap_after_walk: int = 0
    """The heap's allocated blocks after the last walk, or when installed."""

    def install(self) -> None:
        """Turn CPython's automatic collection off for the rest of this process."""
        gc.disable()
        self._heap_after_walk = sys.getallocatedblocks()

    def uninstall(self) -> None:
        """Give the process CPython's automatic collection back."""
        gc.enable()

    def collect_if_grown(self) -> bool:
        """Walk the heap if it has grown past its bound since the last walk; True if it did."""
        if sys.getallocatedblocks() <= self.growth * self._heap_after_walk:
            return False
        gc.collect()
        self.complete_walks += 1
        self._heap_after_walk = sys.getallocatedblocks()
        return True

    async def run(self) -> None:
        """Check the heap every ``check_interval`` seconds until cancelled."""
        while True:
            await trio.sleep(self.check_interval)
            self.collect_if_grown()


class FreezingCollector:
    """Freezes what survives each full collection, so that none is walked again."""

    def install(self) -> None:
        """Start acting after every full collection of this process."""
        gc.callbacks.append(self.after_collection)

    def uninstall(self) -> None:
        """Stop acting, and give the collector back every frozen object."""
        gc.callbacks.remove(self.after_collection)
        gc.unfreeze()

    def after_collection(self, phase: str, info: dict[str, Any]) -> None:
        """The ``gc.callbacks`` hook: after a full collection, freeze the survivors."""
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()
