"""The order book: a snapshot, then changes, kept to the best ``depth`` levels a side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sor_daemon.domain.market import PriceLevel
from sor_daemon.fix.md_dialect import BookSide
from sor_daemon.market.book import OrderBook

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)
SYMBOL = "KRAKEN_SPOT_BTC_USD"


def levels(*pairs: tuple[str, str]) -> tuple[PriceLevel, ...]:
    return tuple(PriceLevel(Decimal(price), Decimal(size)) for price, size in pairs)


def book(depth: int = 3) -> OrderBook:
    return OrderBook(
        SYMBOL,
        depth,
        bids=levels(("99", "1"), ("100", "2")),
        asks=levels(("102", "1"), ("101", "3")),
        heard_at=T0,
    )


def test_a_snapshot_gives_both_sides_best_first() -> None:
    view = book().view()

    assert view.symbol_id == SYMBOL
    assert view.bids == levels(("100", "2"), ("99", "1"))
    assert view.asks == levels(("101", "3"), ("102", "1"))
    assert view.at == T0


def test_a_change_sets_the_size_at_a_price_and_zero_removes_it() -> None:
    subject = book()
    later = T0 + timedelta(seconds=1)

    subject.change(BookSide.BID, Decimal(100), Decimal(5), later)
    subject.change(BookSide.ASK, Decimal(101), Decimal(0), later)
    subject.change(BookSide.ASK, Decimal("101.5"), Decimal("0.5"), later)
    subject.change(BookSide.BID, Decimal(42), Decimal(0), later)

    view = subject.view()
    assert view.bids == levels(("100", "5"), ("99", "1"))
    assert view.asks == levels(("101.5", "0.5"), ("102", "1"))
    assert view.at == later


def test_a_level_pushed_out_of_the_best_depth_goes() -> None:
    subject = book(depth=2)

    subject.change(BookSide.BID, Decimal("100.5"), Decimal(1), T0)
    subject.change(BookSide.ASK, Decimal(103), Decimal(1), T0)

    view = subject.view()
    assert view.bids == levels(("100.5", "1"), ("100", "2"))
    assert view.asks == levels(("101", "3"), ("102", "1"))


def test_a_snapshot_deeper_than_the_book_keeps_the_best_levels() -> None:
    subject = OrderBook(
        SYMBOL,
        1,
        bids=levels(("99", "1"), ("100", "2")),
        asks=levels(("101", "3"), ("102", "1")),
        heard_at=T0,
    )

    assert subject.view().bids == levels(("100", "2"))
    assert subject.view().asks == levels(("101", "3"))


def test_a_new_snapshot_replaces_the_whole_book() -> None:
    subject = book()

    subject.replace(levels(("98", "7")), (), T0 + timedelta(seconds=2))

    view = subject.view()
    assert (view.bids, view.asks, view.best_ask) == (levels(("98", "7")), (), None)
    assert view.at == T0 + timedelta(seconds=2)


def test_hearing_of_the_symbol_refreshes_the_books_time_only() -> None:
    subject = book()
    before = subject.view()

    subject.touch(T0 + timedelta(seconds=3))

    after = subject.view()
    assert (after.bids, after.asks) == (before.bids, before.asks)
    assert after.at == T0 + timedelta(seconds=3)
