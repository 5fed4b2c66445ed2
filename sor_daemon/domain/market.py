"""What the core knows of the market: a venue's book and the trading in a stretch of time.

Plain values, filled in by ``sor_daemon.market`` from the market-data session and the OHLCV API,
read by the router (books) and the algorithms (volume). No I/O; time is carried, never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

ZERO = Decimal(0)


@attrs.frozen
class PriceLevel:
    """One price level of a book: the size displayed at a price."""

    price: Decimal
    size: Decimal


@attrs.frozen
class BookView:
    """One venue's book for one symbol as last heard, bids and asks each best first.

    ``at`` is when the daemon last heard about this book (a snapshot or an incremental update):
    the age that decides whether the book is fresh enough to route on.
    """

    symbol_id: str
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    at: datetime

    @property
    def best_bid(self) -> Decimal | None:
        """The highest bid, or None when no one bids."""
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """The lowest ask, or None when no one offers."""
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        """Halfway between the best bid and ask; None when a side is empty or the book crossed."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None or bid >= ask:
            return None
        return (bid + ask) / 2

    def is_fresh(self, now: datetime, max_age: timedelta) -> bool:
        """True when the book was heard from within ``max_age`` of ``now``."""
        return now - self.at <= max_age


@attrs.frozen
class MarketActivity:
    """What the market traded between ``start`` and ``end`` on the venues asked about.

    ``notional`` is the sum of price times size over the trades, so ``notional / volume`` is
    the market's VWAP over the stretch.
    """

    start: datetime
    end: datetime
    volume: Decimal
    notional: Decimal

    @property
    def vwap(self) -> Decimal | None:
        """The market's volume-weighted average price over the stretch."""
        return self.notional / self.volume if self.volume > 0 else None


def consolidated_mid(books: Sequence[BookView]) -> Decimal | None:
    """The mid of the best bid and best ask across venues; when venues cross each other (one
    bids above another's offer) the mean of the venue mids; None when no venue has a mid."""
    two_sided = [book for book in books if book.mid is not None]
    if not two_sided:
        return None
    best_bid = max(book.bids[0].price for book in two_sided)
    best_ask = min(book.asks[0].price for book in two_sided)
    if best_bid < best_ask:
        return (best_bid + best_ask) / 2
    return sum(((book.bids[0].price + book.asks[0].price) / 2 for book in two_sided), ZERO) / len(
        two_sided
    )
