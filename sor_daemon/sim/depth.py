"""A book cut to a subscription's depth, and the level changes from one cut to the next.

Incremental market data sends, per level, the new size at a price (0 removes the level). The
changes from ``previous`` to ``current`` remove every price that left the best N levels of a
side and set every price that entered or changed size, so a receiver that applies them to what
it was last sent holds exactly ``current``. Pure functions, no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sor_daemon.sim.market import Book, Level
from sor_daemon.sim.mdmessages import BookSide, LevelChange

EMPTY_BOOK = Book(bids=(), asks=())


def cut(book: Book, levels: int) -> Book:
    """The best ``levels`` levels of each side."""
    return Book(bids=book.bids[:levels], asks=book.asks[:levels])


def level_changes(previous: Book, current: Book) -> tuple[LevelChange, ...]:
    """What turns ``previous`` into ``current``: bids, then offers; removals first, then sets."""
    return (
        *_side_changes(BookSide.BID, previous.bids, current.bids),
        *_side_changes(BookSide.OFFER, previous.asks, current.asks),
    )


def _side_changes(
    side: BookSide, previous: Sequence[Level], current: Sequence[Level]
) -> list[LevelChange]:
    before = {level.price: level.size for level in previous}
    now = {level.price: level.size for level in current}
    removed = [LevelChange(side, price, Decimal(0)) for price in before if price not in now]
    changed = [
        LevelChange(side, level.price, level.size)
        for level in current
        if before.get(level.price) != level.size
    ]
    return removed + changed
