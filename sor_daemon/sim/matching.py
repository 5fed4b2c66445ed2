"""Matching a limit order against one side of a book: pure functions, no state.

A buy crosses asks priced at or below its limit, a sell crosses bids at or above it, best level
first. Level sizes and order quantities lie on the instrument's size grid, so every quantity
taken does too.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sor_daemon.sim.market import Level
from sor_daemon.sim.orders import Side


def crosses(side: Side, level_price: Decimal, limit: Decimal) -> bool:
    """True when an order of ``side`` limited at ``limit`` may trade at ``level_price``."""
    return level_price <= limit if side is Side.BUY else level_price >= limit


def crossing_size(levels: Sequence[Level], side: Side, limit: Decimal) -> Decimal:
    """The total size of the levels the order may trade against."""
    return sum(
        (level.size for level in levels if crosses(side, level.price, limit)), start=Decimal(0)
    )


def sweep(levels: Sequence[Level], side: Side, limit: Decimal, quantity: Decimal) -> list[Level]:
    """What an order takes from ``levels`` (best first): one (price, size) per level crossed."""
    taken: list[Level] = []
    remaining = quantity
    for level in levels:
        if remaining <= 0 or not crosses(side, level.price, limit):
            break
        size = min(level.size, remaining)
        taken.append(Level(level.price, size))
        remaining -= size
    return taken
