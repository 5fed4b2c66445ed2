"""Short garbage collections for a process whose heap grows with its work.

CPython's full (generation 2) collection walks every object the collector tracks, and it runs
each time the old generation has grown by a quarter. The daemon keeps the children, fills and
market samples of every running order, so with a thousand orders trading it holds a million such
objects, and each full collection stopped the Trio thread for hundreds of milliseconds: every
slice due meanwhile went out late, and every fill waiting meanwhile reached the screen late.

After each full collection, what survived it is moved to the permanent generation
(``gc.freeze``), so the next one walks only what is new. Frozen objects are still freed by
reference counting; only garbage in reference cycles among them would stay. So once the heap
has grown to ``growth`` times its size after the last collection that walked everything, the
frozen objects are thawed and the next full collection walks everything again: memory held by
such garbage stays within that factor of the live heap, and complete walks become rarer as the
heap grows instead of more frequent.

The heap is measured as the blocks the object allocator has handed out
(``sys.getallocatedblocks``), which reads each memory pool's count: 0.2 ms with 1.4 million
objects frozen. Counting the frozen objects instead (``gc.get_freeze_count``) walks every one
of them: 13 ms for those, on the Trio thread; under the throughput benchmark such counts took
1.3% of the daemon's CPU (perf). Cyclic garbage holds blocks like anything else, so it counts
towards the growth directly.
"""

from __future__ import annotations

import gc
import math
import sys
from typing import Any

import attrs

DEFAULT_GROWTH = 2.0


@attrs.define
class FreezingCollector:
    """Freezes what survives each full collection; thaws all of it when the heap has grown too
    much."""

    growth: float = DEFAULT_GROWTH
    complete_walks: int = 0
    """How many full collections walked the whole heap (for tests and the curious)."""
    _heap_after_walk: int = 0
    """The heap's allocated blocks after the last complete walk."""
    _thawed: bool = True

    def install(self) -> None:
        """Start acting after every full collection of this process."""
        gc.callbacks.append(self.after_collection)

    def uninstall(self) -> None:
        """Stop acting, and give the collector back every frozen object."""
        gc.callbacks.remove(self.after_collection)
        gc.unfreeze()

    def after_collection(self, phase: str, info: dict[str, Any]) -> None:
        """The ``gc.callbacks`` hook: after a full collection, freeze the survivors, or thaw
        everything when the heap outgrew its bound so that the next one walks it all."""
        if phase != "stop" or info["generation"] != 2:
            return
        gc.freeze()
        heap = sys.getallocatedblocks()
        if self._thawed:
            self.complete_walks += 1
            self._heap_after_walk = heap
            self._thawed = False
        elif heap > self.growth * self._heap_after_walk:
            gc.unfreeze()
            self._thawed = True


def install_for_process(*, keeps_history: bool = False) -> FreezingCollector:
    """Install the policy for the rest of this process.

    ``keeps_history`` is for the simulator, which keeps every order it was ever sent (as an EMS
    keeps its order history): its heap only grows, so its frozen objects are never thawed.
    Cyclic garbage frozen among them is a small share of that growth, and thawing would only
    bring back walks of the whole history: the simulator's took 1.1 s at 2.5 million objects.
    """
    collector = FreezingCollector(growth=math.inf if keeps_history else DEFAULT_GROWTH)
    collector.install()
    return collector
