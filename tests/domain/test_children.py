"""An order's children: open ones changed in place, finished ones kept as rows of values the
collector does not track, all read back in the order they were planned."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import attrs

from sor_daemon.domain.children import ChildOrder, Children
from sor_daemon.domain.values import ChildStatus
from sor_daemon.protocol.messages import Side
from tests.support.collector import tracked_objects_added
from tests.support.orders import START


def child(number: int) -> ChildOrder:
    return ChildOrder(
        id=f"o-1-{number}",
        slice_index=number // 2,
        exchange="KRAKEN" if number % 2 else "BINANCE",
        symbol_id_coinapi="KRAKEN_SPOT_BTC_USD",
        symbol_id_exchange="XBT/USD",
        side=Side.SELL,
        quantity=Decimal("0.5"),
        price=Decimal("61200.5") + number,
        planned_at=START + timedelta(seconds=number),
    )


def finished(number: int) -> ChildOrder:
    done = child(number)
    done.status, done.cum_qty, done.avg_px, done.text = (
        ChildStatus.FILLED,
        Decimal("0.5"),
        Decimal("61200.25"),
        "done",
    )
    return done


def test_an_open_child_is_changed_in_place_and_read_back_as_kept_once_finished() -> None:
    children = Children()
    children.keep(child(1))
    open_child = children["o-1-1"]
    open_child.cum_qty = Decimal("0.2")
    assert children["o-1-1"] is open_child
    assert list(children.open()) == [open_child]

    open_child.status = ChildStatus.CANCELED
    children.keep(open_child)
    assert list(children.open()) == []
    assert children["o-1-1"] == open_child
    assert children["o-1-1"] is not open_child


def test_a_change_to_a_finished_child_counts_once_kept() -> None:
    children = Children()
    children.keep(finished(1))
    late = children["o-1-1"]
    late.cum_qty = Decimal("0.6")
    assert children["o-1-1"].cum_qty == Decimal("0.5")
    children.keep(late)
    assert children["o-1-1"].cum_qty == Decimal("0.6")
    assert children["o-1-1"].status is ChildStatus.FILLED


def test_children_read_in_planning_order_open_or_finished() -> None:
    children = Children()
    for number in range(5):
        children.keep(child(number) if number % 2 else finished(number))
    finished_again = children["o-1-1"]
    finished_again.status = ChildStatus.REJECTED
    children.keep(finished_again)
    assert list(children) == [f"o-1-{number}" for number in range(5)]
    assert [c.id for c in children.newest_first()] == [f"o-1-{n}" for n in (4, 3, 2, 1, 0)]
    glances = [(c.slice_index, c.exchange, c.status) for c in children.newest_first()]
    assert list(children.glance_newest_first()) == glances
    assert glances[3][2] is ChildStatus.REJECTED
    assert [c.id for c in children.open()] == ["o-1-3"]
    assert "o-1-4" in children and "o-1-5" not in children
    assert len(children) == 5


def test_finished_children_are_not_tracked_by_the_collector() -> None:
    children = Children()
    added = tracked_objects_added(lambda: [children.keep(finished(n)) for n in range(2000)])
    assert added < 100
    assert len(children) == 2000


def rejected(number: int) -> ChildOrder:
    refused = child(number)
    refused.status, refused.text = ChildStatus.REJECTED, "no liquidity"
    return refused


def test_the_rejects_in_a_row_follow_every_child_that_finishes_in_any_order() -> None:
    children = Children()
    children.keep(finished(0))
    for number in (1, 2, 3):
        children.keep(child(number))
    assert children.rejected_in_a_row() == 0

    children.keep(rejected(3))
    children.keep(rejected(1))
    assert children.rejected_in_a_row() == 2, "the open child 2 is passed over"

    children.keep(child(4))
    assert children.rejected_in_a_row() == 2, "a new open child changes nothing"

    children.keep(finished(2))
    assert children.rejected_in_a_row() == 1, "child 2 filled between the two rejects"

    children.keep(rejected(4))
    assert children.rejected_in_a_row() == 2


def test_the_venues_that_rejected_the_latest_slice_follow_new_and_finished_children() -> None:
    children = Children()
    for number in (0, 1):  # slice 0: BINANCE and KRAKEN
        children.keep(child(number))
    assert children.rejected_in_latest_slice() == frozenset()

    children.keep(rejected(1))
    assert children.rejected_in_latest_slice() == {"KRAKEN"}

    children.keep(child(2))  # slice 1 opens with BINANCE's child
    assert children.rejected_in_latest_slice() == frozenset(), "slice 0 is not the latest"

    children.keep(rejected(2))
    assert children.rejected_in_latest_slice() == {"BINANCE"}

    children.keep(child(3))
    children.keep(rejected(3))
    assert children.rejected_in_latest_slice() == {"BINANCE", "KRAKEN"}


def test_a_venue_stays_among_the_latest_rejects_while_any_child_of_it_there_is_rejected() -> None:
    children = Children()
    twin = "o-1-2-twin"  # slice 1 sends BINANCE two children (two of its instruments)
    children.keep(child(2))
    children.keep(attrs.evolve(child(2), id=twin))
    children.keep(rejected(2))
    children.keep(attrs.evolve(rejected(2), id=twin))
    assert children.rejected_in_latest_slice() == {"BINANCE"}

    children.keep(finished(2))  # a late report fills the first after all
    assert children.rejected_in_latest_slice() == {"BINANCE"}, "its twin is still rejected"

    children.keep(attrs.evolve(finished(2), id=twin))
    assert children.rejected_in_latest_slice() == frozenset()


def test_the_latest_rejects_kept_as_children_change_match_a_walk_of_them() -> None:
    generator = random.Random(8)
    children = Children()
    for number in range(400):
        new = attrs.evolve(child(number), slice_index=number // 3, exchange=venue(generator))
        children.keep(new)
        for _ in range(generator.randrange(3)):  # reports, late ones included
            reported = children[generator.choice(list(children)[-6:])]
            reported.status = generator.choice(list(ChildStatus))
            children.keep(reported)
            assert children.rejected_in_latest_slice() == rejects_walked(children)


def venue(generator: random.Random) -> str:
    return generator.choice(["BINANCE", "KRAKEN", "COINBASE"])


def rejects_walked(children: Children) -> set[str]:
    """The venues that rejected a child of the newest child's slice, walked for."""
    glances = list(children.glance_newest_first())
    latest = glances[0].slice_index
    found = set()
    for glance in glances:
        if glance.slice_index != latest:
            break
        if glance.status is ChildStatus.REJECTED:
            found.add(glance.exchange)
    return found
