"""The collectors: the daemon's walks nothing until the heap has grown past its bound, then
what is new, and everything once the tracked objects have doubled; the simulator's freezes what
survives a full collection."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest
import trio
import trio.testing

from sor_daemon.gc_policy import FreezingCollector, GrowthCollector


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


def tracked() -> int:
    """The objects the collector tracks, frozen or not (walking them all to count)."""
    return len(gc.get_objects()) + gc.get_freeze_count()


def nodes_for(blocks: int) -> list[Node]:
    """New nodes that hold about ``blocks`` of the heap."""
    sample = heap()
    probe = [Node() for _ in range(10_000)]
    per_node = (heap() - sample) / len(probe)
    del probe
    return [Node() for _ in range(int(blocks / per_node))]


def plain_values_for(blocks: int) -> list[str]:
    """New strings, which the collector never tracks, that hold about ``blocks`` of the heap:
    as a kept row's values grow it."""
    return [f"value {number}" for number in range(blocks)]


@pytest.fixture
def growth_collector() -> Iterator[GrowthCollector]:
    """The daemon's collector, installed with nothing frozen and the heap just collected."""
    gc.unfreeze()
    gc.collect()
    collector = GrowthCollector(step=1.25, growth=2.0)
    collector.install()
    yield collector
    collector.uninstall()


@pytest.fixture
def freezing_collector() -> Iterator[FreezingCollector]:
    """The simulator's collector on a clean slate, with collections only where the test asks."""
    collector = FreezingCollector()
    gc.unfreeze()
    gc.disable()
    collector.install()
    yield collector
    collector.uninstall()
    gc.enable()


def test_installing_walks_everything_once_and_freezes_what_the_program_holds() -> None:
    gc.unfreeze()
    held = [Node() for _ in range(1_000)]
    dead = weakref.ref(cycle())
    collector = GrowthCollector()
    collector.install()
    try:
        assert dead() is None
        assert gc.get_freeze_count() > len(held), "the first step walks only what is new"
    finally:
        collector.uninstall()


def test_the_daemon_leaves_cyclic_garbage_alone_while_the_heap_is_within_a_step(
    growth_collector: GrowthCollector,
) -> None:
    dead = weakref.ref(cycle())
    churn = [[Node()] for _ in range(50_000)]
    del churn
    assert not gc.isenabled()
    assert not growth_collector.collect_if_grown()
    assert dead() is not None, "no young collection ran, however much was allocated"


def test_a_step_of_growth_collects_what_is_new_and_freezes_what_survives(
    growth_collector: GrowthCollector,
) -> None:
    dead = weakref.ref(cycle())
    kept = [Node() for _ in range(1_000)]
    grown = plain_values_for(heap() * 3 // 10)
    assert growth_collector.collect_if_grown()
    assert dead() is None
    assert gc.get_freeze_count() > len(kept)
    assert growth_collector.complete_walks == 0
    assert not growth_collector.collect_if_grown(), "the next step counts from here"
    del grown


def test_rebasing_freezes_what_is_held_without_a_walk_and_counts_growth_from_there(
    growth_collector: GrowthCollector,
) -> None:
    dead = weakref.ref(cycle())
    restored = nodes_for(heap())  # the heap doubled: orders read back from the journal
    growth_collector.rebase()
    assert gc.get_freeze_count() > len(restored)
    assert not growth_collector.collect_if_grown(), "what was restored is not growth"
    assert dead() is not None, "nothing was walked"
    grown = plain_values_for(heap() * 3 // 10)
    assert growth_collector.collect_if_grown()
    assert growth_collector.complete_walks == 0, "the restored objects count as held"
    del grown


def test_frozen_cyclic_garbage_is_reclaimed_once_the_tracked_objects_double(
    growth_collector: GrowthCollector,
) -> None:
    node = cycle()
    frozen_cycle = weakref.ref(node)
    values = [plain_values_for(heap() * 3 // 10)]
    assert growth_collector.collect_if_grown()
    del node
    for _ in range(3):
        values.append(plain_values_for(heap() * 3 // 10))
        assert growth_collector.collect_if_grown()
    assert frozen_cycle() is not None, "plain values grew the heap past twice, not the objects"
    assert growth_collector.complete_walks == 0
    objects = [Node() for _ in range(tracked())]
    values.append(plain_values_for(heap() * 3 // 10))
    assert growth_collector.collect_if_grown()
    assert frozen_cycle() is None
    assert growth_collector.complete_walks == 1
    assert gc.get_freeze_count() > len(objects)
    del values


def test_objects_that_replace_others_are_not_counted_as_growth(
    growth_collector: GrowthCollector,
) -> None:
    old = [Node() for _ in range(tracked() * 8 // 10)]
    values = [plain_values_for(heap() * 3 // 10)]
    assert growth_collector.collect_if_grown()
    new = [Node() for _ in range(len(old))]
    del old
    values.append(plain_values_for(heap() * 3 // 10))
    assert growth_collector.collect_if_grown()
    assert growth_collector.complete_walks == 0, "as many objects live as after the last step"
    del new, values


def test_a_step_measures_the_heap_without_walking_it(
    growth_collector: GrowthCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting the tracked objects walks them all: 13 ms at 1.4 million on the Trio thread."""

    def walks(*_: object) -> None:
        raise AssertionError("the policy walked the heap to measure it")

    monkeypatch.setattr(gc, "get_objects", walks)
    monkeypatch.setattr(gc, "get_freeze_count", walks)
    grown = nodes_for(heap() * 3 // 10)
    assert growth_collector.collect_if_grown()
    assert growth_collector.complete_walks == 0
    del grown


def test_the_daemon_checks_the_heap_every_interval(growth_collector: GrowthCollector) -> None:
    walks_at: list[float] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(growth_collector.run)
            await trio.sleep(2.5)
            dead = weakref.ref(cycle())
            grown = nodes_for(heap() * 3 // 10)
            while dead() is not None:
                await trio.sleep(0.1)
            walks_at.append(trio.current_time())
            nursery.cancel_scope.cancel()
            del grown

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    [walked_at] = walks_at
    assert 3.0 <= walked_at <= 3.1, "the first check after the growth collected"


def test_uninstalling_the_daemons_collector_gives_everything_back(
    growth_collector: GrowthCollector,
) -> None:
    grown = nodes_for(heap() * 3 // 10)
    assert growth_collector.collect_if_grown()
    growth_collector.uninstall()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    growth_collector.install()
    del grown


def test_survivors_of_a_full_collection_are_frozen(freezing_collector: FreezingCollector) -> None:
    kept = [Node() for _ in range(100)]
    gc.collect()
    assert gc.get_freeze_count() > len(kept)
    assert gc.get_count()[2] == 0


def test_a_cycle_that_dies_young_is_collected_at_once(
    freezing_collector: FreezingCollector,
) -> None:
    gc.collect()
    dead = weakref.ref(cycle())
    gc.collect()
    assert dead() is None


def test_the_simulator_never_walks_what_it_froze_again(
    freezing_collector: FreezingCollector,
) -> None:
    node = cycle()
    frozen_cycle = weakref.ref(node)
    gc.collect()
    del node
    growth = nodes_for(heap() * 3)
    gc.collect()
    gc.collect()
    assert frozen_cycle() is not None, "frozen garbage stays: the history only grows"
    assert gc.get_freeze_count() > len(growth)


def test_uninstall_gives_every_object_back(freezing_collector: FreezingCollector) -> None:
    gc.collect()
    freezing_collector.uninstall()
    assert gc.get_freeze_count() == 0
    freezing_collector.install()


def test_each_collection_tells_how_long_it_took_and_whether_it_walked_everything(
    growth_collector: GrowthCollector,
) -> None:
    pauses: list[tuple[float, bool]] = []
    growth_collector.observe_pause = lambda seconds, complete: pauses.append((seconds, complete))
    grown = plain_values_for(heap() * 3 // 10)
    assert growth_collector.collect_if_grown()
    assert not growth_collector.collect_if_grown()
    more = [Node() for _ in range(tracked())], plain_values_for(heap() * 3 // 10)
    assert growth_collector.collect_if_grown()
    assert [complete for _, complete in pauses] == [False, True]
    assert all(seconds > 0 for seconds, _ in pauses)
    del grown, more
