"""One symbol's order book as the market-data feed leaves it: the best ``depth`` levels a side.

A snapshot replaces the book; a change sets the size at one price (0 removes the level). The
server keeps the receiver's book equal to its own best N levels, so a level pushed out of the
best ``depth`` is removed here too, whatever the server says. The book remembers when the daemon
last heard about the symbol, which is what decides whether it is fresh enough to route on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sor_daemon.domain.market import BookView, PriceLevel
from sor_daemon.fix.md_dialect import BookSide


class OrderBook:
    """A mutable book for one symbol, owned by the one task that applies the feed to it.

    It starts from a snapshot's levels, heard at ``heard_at``.
    """

    def __init__(
        self,
        symbol_id: str,
        depth: int,
        bids: Iterable[PriceLevel],
        asks: Iterable[PriceLevel],
        heard_at: datetime,
    ) -> None:
        self.symbol_id = symbol_id
        self._depth = depth
        self._levels: dict[BookSide, dict[Decimal, Decimal]] = {BookSide.BID: {}, BookSide.ASK: {}}
        self._heard_at = heard_at
        self._view: BookView | None = None
        self.replace(bids, asks, heard_at)

    def replace(
        self, bids: Iterable[PriceLevel], asks: Iterable[PriceLevel], heard_at: datetime
    ) -> None:
        """Take a snapshot's levels as the whole book."""
        for side, levels in ((BookSide.BID, bids), (BookSide.ASK, asks)):
            self._levels[side].clear()
            for level in levels:
                self._set(side, level.price, level.size)
        self.touch(heard_at)

    def change(self, side: BookSide, price: Decimal, size: Decimal, heard_at: datetime) -> None:
        """Set the size at ``price`` on ``side``; a size of 0 removes the level."""
        self._set(side, price, size)
        self.touch(heard_at)

    def touch(self, heard_at: datetime) -> None:
        """Note that the feed spoke of this symbol (a trade proves the book is current too)."""
        self._heard_at = heard_at
        self._view = None

    def view(self) -> BookView:
        """The book as an immutable value, bids and asks each best first."""
        if self._view is None:
            self._view = BookView(
                symbol_id=self.symbol_id,
                bids=self._sorted(BookSide.BID),
                asks=self._sorted(BookSide.ASK),
                at=self._heard_at,
            )
        return self._view

    def _set(self, side: BookSide, price: Decimal, size: Decimal) -> None:
        prices = self._levels[side]
        if size <= 0:
            prices.pop(price, None)
            return
        prices[price] = size
        if len(prices) > self._depth:
            worst = min(prices) if side is BookSide.BID else max(prices)
            del prices[worst]

    def _sorted(self, side: BookSide) -> tuple[PriceLevel, ...]:
        prices = self._levels[side]
        best_first = sorted(prices, reverse=side is BookSide.BID)
        return tuple(PriceLevel(price, prices[price]) for price in best_first)
