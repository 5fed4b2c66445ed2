"""Level changes: applied to what a subscriber was sent, they give exactly the new cut book."""

from __future__ import annotations

from decimal import Decimal as D

from sor_daemon.sim.depth import EMPTY_BOOK, cut, level_changes
from sor_daemon.sim.market import Book, Level, Market
from sor_daemon.sim.mdmessages import BookSide, LevelChange
from sor_daemon.sim.orders import Side
from sor_daemon.sim.settings import default_instruments, default_market

from .conftest import START

INSTRUMENTS = default_instruments()
PARAMETERS = default_market()


def apply(book: Book, changes: tuple[LevelChange, ...]) -> Book:
    """What a receiver holds after applying ``changes`` to ``book``."""
    sides = {
        BookSide.BID: {level.price: level.size for level in book.bids},
        BookSide.OFFER: {level.price: level.size for level in book.asks},
    }
    for change in changes:
        if change.size:
            sides[change.side][change.price] = change.size
        else:
            del sides[change.side][change.price]
    return Book(
        bids=tuple(Level(p, s) for p, s in sorted(sides[BookSide.BID].items(), reverse=True)),
        asks=tuple(Level(p, s) for p, s in sorted(sides[BookSide.OFFER].items())),
    )


def test_changes_keep_a_replica_equal_to_every_cut_of_a_moving_market() -> None:
    btc = INSTRUMENTS.by_coinapi_id("KRAKEN_SPOT_BTC_USD")
    for depth in (1, 3, 10):
        market = Market(INSTRUMENTS, PARAMETERS, 11, START)
        sent = EMPTY_BOOK
        for step in range(1, 80):
            market.advance(START + step * PARAMETERS.step)
            if step % 3 == 0:
                best = market.book(btc).asks[0]
                market.take(btc, Side.BUY, best.price, best.size)
            current = cut(market.book(btc), depth)
            sent = apply(sent, level_changes(sent, current))
            assert sent == current


def test_only_what_changed_is_sent_removals_first() -> None:
    before = Book(
        bids=(Level(D(99), D(1)), Level(D(98), D(2))),
        asks=(Level(D(101), D(1)), Level(D(102), D(2))),
    )
    after = Book(
        bids=(Level(D(99), D(1)), Level(D(98), D(3))),
        asks=(Level(D(102), D(2)), Level(D(103), D(4))),
    )
    assert level_changes(before, after) == (
        LevelChange(BookSide.BID, D(98), D(3)),
        LevelChange(BookSide.OFFER, D(101), D(0)),
        LevelChange(BookSide.OFFER, D(103), D(4)),
    )
    assert level_changes(after, after) == ()
