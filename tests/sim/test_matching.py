"""Matching a limit order against one side of a book."""

from __future__ import annotations

from decimal import Decimal as D

from sor_daemon.sim.market import Level
from sor_daemon.sim.matching import crossing_size, sweep
from sor_daemon.sim.orders import Side

ASKS = (Level(D("100"), D("1")), Level(D("101"), D("2")), Level(D("102"), D("3")))
BIDS = (Level(D("99"), D("1")), Level(D("98"), D("2")), Level(D("97"), D("3")))


def test_a_buy_takes_asks_at_or_below_its_limit_best_first() -> None:
    assert sweep(ASKS, Side.BUY, D("101"), D("2.5")) == [
        Level(D("100"), D("1")),
        Level(D("101"), D("1.5")),
    ]
    assert sweep(ASKS, Side.BUY, D("101"), D("10")) == [
        Level(D("100"), D("1")),
        Level(D("101"), D("2")),
    ]
    assert sweep(ASKS, Side.BUY, D("99.5"), D("1")) == []


def test_a_sell_takes_bids_at_or_above_its_limit() -> None:
    assert sweep(BIDS, Side.SELL, D("98"), D("5")) == [
        Level(D("99"), D("1")),
        Level(D("98"), D("2")),
    ]
    assert sweep(BIDS, Side.SELL, D("100"), D("1")) == []


def test_crossing_size_counts_only_levels_the_limit_reaches() -> None:
    assert crossing_size(ASKS, Side.BUY, D("101")) == D("3")
    assert crossing_size(BIDS, Side.SELL, D("97")) == D("6")
    assert crossing_size(ASKS, Side.BUY, D("50")) == 0
