"""The freezing collector: survivors of a full collection are frozen, and cyclic garbage among
them is still reclaimed once the frozen heap has grown past its bound."""

from __future__ import annotations

import gc
import math
import weakref
from collections.abc import Iterator

import pytest

from sor_daemon.gc_policy import FreezingCollector


class Node:
    """An object that can take part in a reference cycle."""

    def __init__(self) -> None:
        self.other: object = None


def cycle() -> Node:
    """Two nodes that reference each other: once nobody else does, only the collector frees
    them."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return first


COUNT_FROZEN = gc.get_freeze_count
"""The real count of the frozen heap, for tests that watch the policy count it."""


def walk_then_freeze_and_free(share: float) -> int:
    """Walk the whole heap, then freeze ``share`` of it more and free that again: the frozen
    heap is as it was, its upper bound ``share`` higher. The size of the heap walked."""
    gc.collect()
    base = COUNT_FROZEN()
    freed_since = [Node() for _ in range(int(base * share))]
    gc.collect()
    del freed_since
    return base


@pytest.fixture
def collector() -> Iterator[FreezingCollector]:
    """A collector installed on a clean slate, with collections only where the test asks."""
    collector = FreezingCollector(growth=2.0)
    gc.unfreeze()
    gc.disable()
    collector.install()
    yield collector
    collector.uninstall()
    gc.enable()


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every count of the frozen heap the policy makes from here on (each walks all of it)."""
    made: list[int] = []

    def counted() -> int:
        made.append(COUNT_FROZEN())
        return made[-1]

    monkeypatch.setattr(gc, "get_freeze_count", counted)
    return made


def test_survivors_of_a_full_collection_are_frozen(collector: FreezingCollector) -> None:
    kept = [Node() for _ in range(100)]
    gc.collect()
    assert gc.get_freeze_count() > len(kept)
    assert gc.get_count()[2] == 0
    assert collector.complete_walks == 1


def test_a_cycle_that_dies_young_is_collected_at_once(collector: FreezingCollector) -> None:
    gc.collect()
    dead = weakref.ref(cycle())
    gc.collect()
    assert dead() is None
    assert collector.complete_walks == 1


def test_frozen_cyclic_garbage_is_reclaimed_once_the_heap_doubles(
    collector: FreezingCollector,
) -> None:
    node = cycle()
    frozen_cycle = weakref.ref(node)
    gc.collect()
    del node
    gc.collect()
    assert frozen_cycle() is not None, "frozen garbage waits for the heap to grow"
    growth = [Node() for _ in range(2 * gc.get_freeze_count())]
    gc.collect()
    assert collector.complete_walks == 1
    gc.collect()
    assert frozen_cycle() is None
    assert collector.complete_walks == 2
    assert gc.get_freeze_count() > len(growth)


def test_frozen_objects_freed_since_do_not_count_towards_the_bound(
    collector: FreezingCollector,
) -> None:
    base = walk_then_freeze_and_free(0.8)
    kept = [Node() for _ in range(base * 8 // 10)]
    gc.collect()
    gc.collect()
    assert collector.complete_walks == 1, "1.8 times the heap is within a growth of 2"
    assert gc.get_freeze_count() > len(kept)


def test_a_collection_well_within_the_bound_does_not_count_the_frozen_heap(
    collector: FreezingCollector, counts: list[int]
) -> None:
    gc.collect()
    kept = [Node() for _ in range(100)]
    gc.collect()
    assert counts == [], "counting walks every frozen object"
    assert COUNT_FROZEN() > len(kept)


def test_unbounded_growth_never_walks_the_frozen_heap_again(
    collector: FreezingCollector,
) -> None:
    collector.growth = math.inf
    gc.collect()
    growth = [Node() for _ in range(4 * gc.get_freeze_count())]
    gc.collect()
    gc.collect()
    assert collector.complete_walks == 1
    assert gc.get_freeze_count() > len(growth)


def test_uninstall_gives_every_object_back(collector: FreezingCollector) -> None:
    gc.collect()
    collector.uninstall()
    assert gc.get_freeze_count() == 0
    collector.install()


def test_a_heap_near_its_bound_is_counted_again_only_after_a_quarter_more_is_frozen(
    collector: FreezingCollector, counts: list[int]
) -> None:
    """Old objects dying as new ones are frozen keep the frozen heap near its bound while the
    upper bound passes it at every full collection: counting each time would walk the whole
    frozen heap each time."""
    base = walk_then_freeze_and_free(0.8)
    near_the_bound = [Node() for _ in range(base * 9 // 10)]
    gc.collect()
    assert len(counts) == 1, "the bound passed: the frozen heap is counted, and within it"
    a_little_more = [Node() for _ in range(base // 10)]
    gc.collect()
    assert len(counts) == 1, "not a quarter of the counted heap frozen since"
    a_quarter_more = [Node() for _ in range(base * 4 // 10)]
    gc.collect()
    assert len(counts) == 2
    gc.collect()
    assert collector.complete_walks == 2, "past its bound: thawed, and walked whole"
    assert COUNT_FROZEN() > len(near_the_bound) + len(a_little_more) + len(a_quarter_more)
