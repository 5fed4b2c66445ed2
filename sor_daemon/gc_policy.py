"""Short garbage collections for a process whose heap grows with its work.

CPython's full (generation 2) collection walks every object the collector tracks, and it runs
each time the old generation has grown by a quarter. The daemon keeps the children, fills and
market samples of every running order, so with a thousand orders trading it holds a million such
objects, and each full collection stopped the Trio thread for hundreds of milliseconds: every
slice due meanwhile went out late, and every fill waiting meanwhile reached the screen late.

After each full collection, what survived it is moved to the permanent generation
(``gc.freeze``), so the next one walks only what is new. Frozen objects are still freed by
reference counting; only garbage in reference cycles among them would stay. So once the frozen
heap has grown to ``growth`` times its size after the last collection that walked everything, it
is thawed and the next full collection walks everything again: memory held by such garbage stays
within that factor of the live heap, and complete walks become rarer as the heap grows instead of
more frequent.

Counting the frozen heap walks all of it (13 ms at two million objects), and once the old heap is
frozen full collections come often, each walking only what is new. So the policy counts what it
freezes each time, an upper bound of the frozen heap (reference counting frees frozen objects
unseen), and counts the frozen heap itself only when that bound passes the limit. A heap whose
old objects die as new ones are frozen stays near its limit while the bound keeps passing it:
under the throughput benchmark the count took 1% of the daemon's CPU, a pause in many a full
collection. So after a count finds the heap within its limit, the next waits until a quarter of
that heap more has been frozen: the frozen heap may pass its limit by that quarter before it is
noticed.
"""

from __future__ import annotations

import gc
import math
from typing import Any

import attrs

DEFAULT_GROWTH = 2.0


@attrs.define
class FreezingCollector:
    """Freezes what survives each full collection; thaws all of it when it has grown too much."""

    growth: float = DEFAULT_GROWTH
    complete_walks: int = 0
    """How many full collections walked the whole heap (for tests and the curious)."""
    _frozen_after_walk: int = 0
    """How many objects were frozen after the last complete walk."""
    _frozen_at_most: int = 0
    """How many objects are frozen at most: those counted when frozen, since the last count."""
    _last_count: int = 0
    """How many objects were frozen when last counted (or after the last complete walk)."""
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
        everything when the frozen heap outgrew its bound so that the next one walks it all."""
        if phase != "stop" or info["generation"] != 2:
            return
        survivors = sum(len(gc.get_objects(generation)) for generation in range(3))
        gc.freeze()
        if self._thawed:
            self.complete_walks += 1
            self._frozen_after_walk = self._frozen_at_most = self._last_count = survivors
            self._thawed = False
            return
        self._frozen_at_most += survivors
        limit = self.growth * self._frozen_after_walk
        frozen_since_count = self._frozen_at_most - self._last_count
        if self._frozen_at_most <= limit or 4 * frozen_since_count < self._last_count:
            return
        self._frozen_at_most = self._last_count = gc.get_freeze_count()
        if self._frozen_at_most > limit:
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
