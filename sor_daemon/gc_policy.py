"""Garbage collection for processes whose heap grows with their work: few walks, of what is new.

CPython's collector walks the young objects every 700 net allocations, the middle generation
every tenth time, and every object it tracks each time the old generation has grown by a
quarter. The daemon allocates a few dozen tracked objects a child order, and many live about a
second (a runner's wait in its inbox, a slice staged for its due time), long enough to be walked
young, walked again in the middle generation, and promoted. Under the throughput benchmark that
was 9% of the daemon's CPU (6.0 s of 67.5 s): a young collection every 30 children or so, up to
25 ms, and a middle one every 300, 10.7 ms on average and up to 37 ms, each holding up every
slice due and every fill waiting meanwhile. And those walks found next to nothing: 341 objects
in reference cycles in the whole run of about 100,000 children. Everything else the daemon drops
is freed by reference counting the moment it is dropped.

So the daemon (``GrowthCollector``) turns automatic collection off and collects only as its
heap grows. Once it has grown by a quarter (``step``) since the last collection, what is new
since is walked and what survives is frozen (``gc.freeze``), out of the next ones' way; an
object that lived a second and died meanwhile is never walked at all. Once the objects the
collector tracks have grown to twice their number after the last walk of all of them
(``growth``), everything is thawed and walked: cyclic garbage among the frozen stays within that
factor of the live objects, and walks become rarer as the heap grows instead of more frequent.
In the same benchmark: 8 collections, 0.97 s of 69.7 s (1.4%), the longest 280 ms. Walking
everything only when the heap doubled, without the steps, took as long in all (0.95 s) but in
three walks, up to 507 ms: each walked every kept row made since the last (a tuple was
untracked only once the collector had looked at it; ``kept`` now stores rows where it never
looks). Collecting the young objects every 100 ms instead walked each object that lived a while
once: 4.4 s (6%), 5.7 ms a collection. With the rows out of its way, a step of the schedule
benchmark (1,000 TWAPs) walks 17,000 to 22,000 objects in 10 to 21 ms, and a complete walk
about 165,000 (the program's functions, classes and the live orders' objects) in 120 to 290 ms.

Steps and complete walks count different things. A step is due when memory has grown: the
allocator's blocks in use (``sys.getallocatedblocks``), which reads each memory pool's count,
0.2 ms with 1.4 million objects tracked; cyclic garbage holds blocks like anything else. A
complete walk is due when what it must visit has grown. The heap grows mostly by plain values
the collector never visits (the kept rows' decimals, strings and times): counted in blocks, it
doubled every two minutes of the schedule benchmark, and each time everything was walked for
next to nothing new. Counting the tracked objects directly (``gc.get_objects``,
``gc.get_freeze_count``) walks a list of every one of them, 13 ms at 1.4 million on the Trio
thread, so the count is kept as it goes: CPython's youngest generation counts every object
allocated for the collector less every one freed since the last collection
(``gc.get_count()[0]``, counting on while automatic collection is off); at a step, less what
the step found unreachable, that is what the tracked objects grew by. A free that finds the
count at zero is not counted, so the sum can only overstate the growth: a complete walk comes no
later than the doubling. A complete walk counts the frozen objects exactly (one walk of the
list, about 1 ms at 170,000). Two alternated pairs of 1,000 TWAPs over four minutes: the two
complete walks of each run (0.27 and 0.31 s) are gone, and with them every pause over 100 ms
(1 and 3 before); the collector's pauses in all went from 0.46 and 0.50 s to 0.16 and 0.17.

The simulator (``FreezingCollector``) keeps every order it was ever sent, as an EMS keeps its
order history: its heap only grows, and a walk of all of it took 1.1 s at 2.5 million objects.
It leaves CPython's collections on, and moves what survives each full collection to the
permanent generation (``gc.freeze``), so the next one walks only what is new. Frozen objects
are still freed by reference counting; only garbage in cycles among them stays.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs
import trio

DEFAULT_STEP = 1.25
DEFAULT_GROWTH = 2.0
CHECK_INTERVAL_SECONDS = 1.0


@attrs.define
class GrowthCollector:
    """No collection until the heap has grown by ``step`` since the last one; then one of what
    is new since, whose survivors are frozen. Once the tracked objects have grown by ``growth``
    since the last walk of all of them, everything is thawed and walked. ``run`` looks every
    ``check_interval`` seconds."""

    step: float = DEFAULT_STEP
    growth: float = DEFAULT_GROWTH
    check_interval: float = CHECK_INTERVAL_SECONDS
    complete_walks: int = 0
    """How many collections walked the whole heap (for tests and the curious)."""
    observe_pause: Callable[[float, bool], None] | None = None
    """Told each collection's wall-clock seconds, and whether it walked the whole heap: the
    Trio thread waits a collection out (the daemon's metrics, ``sor_gc_pause_seconds``)."""
    _heap_after_collection: int = 0
    """The heap's allocated blocks after the last collection (installing makes one)."""
    _tracked: int = 0
    """The tracked objects after the last collection: counted at a complete walk, summed from
    the youngest generation's count at a step (an overstatement, never less)."""
    _tracked_after_walk: int = 0
    """The tracked objects after the last complete walk (installing makes one)."""

    def install(self) -> None:
        """Turn CPython's automatic collection off for the rest of this process, after a
        complete walk of what the program holds so far (its modules, once imported): frozen
        then, it is not walked again by the first step, which otherwise walked the whole
        program, about 150,000 objects, while the daemon traded. In the fill benchmark, two
        alternated pairs: the collector's pauses 0.080 and 0.086 s in all, 0.021 and 0.027."""
        gc.disable()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._heap_after_collection = sys.getallocatedblocks()
        self._tracked = self._tracked_after_walk = gc.get_freeze_count()

    def uninstall(self) -> None:
        """Give the process CPython's automatic collection back, and every frozen object."""
        gc.unfreeze()
        gc.enable()

    def rebase(self) -> None:
        """Take what the process holds now as where growth counts from, frozen without a walk:
        the orders a start read back from the journal are live, not growth. Walking them all
        (about 0.35 s for 10,000 running orders) as the restarted daemon began to trade found
        next to nothing: replaying makes no cycles. Whatever it did make waits, frozen, for the
        tracked objects to double from here, as frozen garbage always does."""
        gc.freeze()
        self._heap_after_collection = sys.getallocatedblocks()
        self._tracked = self._tracked_after_walk = gc.get_freeze_count()

    def collect_if_grown(self) -> bool:
        """Collect if the heap has grown past a bound since the last collection; True if so."""
        heap = sys.getallocatedblocks()
        if heap <= self.step * self._heap_after_collection:
            return False
        tracked = self._tracked + gc.get_count()[0]
        complete = tracked > self.growth * self._tracked_after_walk
        started = time.perf_counter()
        if complete:
            gc.unfreeze()
        unreachable = gc.collect()
        gc.freeze()
        self._heap_after_collection = sys.getallocatedblocks()
        if complete:
            self.complete_walks += 1
            self._tracked = self._tracked_after_walk = gc.get_freeze_count()
        else:
            self._tracked = tracked - unreachable
        pause = time.perf_counter() - started
        if self.observe_pause is not None:
            self.observe_pause(pause, complete)
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
