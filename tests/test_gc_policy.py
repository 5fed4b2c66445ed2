"""The freezing collector: survivors of a full collection are frozen, and cyclic garbage among
them is still reclaimed once the heap has grown past its bound."""

from __future__ import annotations

import gc
import math
import sys
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


def heap() -> int:
    """The heap as the policy measures it: the object allocator's blocks in use."""
    return sys.getallocatedblocks()


def nodes_for(blocks: int) -> list[Node]:
    """New nodes that hold about ``blocks`` of the heap."""
    sample = heap()
    probe = [Node() for _ in range(10_000)]
    per_node = (heap() - sample) / len(probe)
    del probe
    return [Node() for _ in range(int(blocks / per_node))]


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
    growth = nodes_for(heap() * 11 // 10)
    gc.collect()
    assert collector.complete_walks == 1
    gc.collect()
    assert frozen_cycle() is None
    assert collector.complete_walks == 2
    assert gc.get_freeze_count() > len(growth)


def test_a_heap_within_its_bound_is_not_walked_whole_again(collector: FreezingCollector) -> None:
    gc.collect()
    kept = nodes_for(heap() * 8 // 10)
    gc.collect()
    gc.collect()
    assert collector.complete_walks == 1, "1.8 times the heap is within a growth of 2"
    assert gc.get_freeze_count() > len(kept)


def test_objects_freed_since_the_walk_do_not_count_towards_the_bound(
    collector: FreezingCollector,
) -> None:
    gc.collect()
    freed = nodes_for(heap() * 8 // 10)
    gc.collect()
    del freed
    kept = nodes_for(heap() * 8 // 10)
    gc.collect()
    gc.collect()
    assert collector.complete_walks == 1, "what was frozen and freed since holds no memory"
    assert gc.get_freeze_count() > len(kept)


def test_the_heap_is_measured_without_walking_the_frozen_objects(
    collector: FreezingCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting the frozen objects, or listing a generation, walks them all: 13 ms at 1.4
    million on the Trio thread."""

    def walks(*_: object) -> None:
        raise AssertionError("the policy walked the heap to measure it")

    monkeypatch.setattr(gc, "get_freeze_count", walks)
    monkeypatch.setattr(gc, "get_objects", walks)
    gc.collect()
    growth = nodes_for(heap() * 11 // 10)
    gc.collect()
    gc.collect()
    assert collector.complete_walks == 2
    monkeypatch.undo()
    assert gc.get_freeze_count() > len(growth)


def test_unbounded_growth_never_walks_the_frozen_heap_again(
    collector: FreezingCollector,
) -> None:
    collector.growth = math.inf
    gc.collect()
    growth = nodes_for(heap() * 3)
    gc.collect()
    gc.collect()
    assert collector.complete_walks == 1
    assert gc.get_freeze_count() > len(growth)


def test_uninstall_gives_every_object_back(collector: FreezingCollector) -> None:
    gc.collect()
    collector.uninstall()
    assert gc.get_freeze_count() == 0
    collector.install()
