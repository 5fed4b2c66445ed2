"""The market-data desk without sockets: snapshots, diffs, trades, freezes, unsubscribes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal as D

import attrs

from sor_daemon.sim.exchange import FeedUpdate
from sor_daemon.sim.market import Book, Level
from sor_daemon.sim.mdmessages import (
    BookSide,
    Incremental,
    LevelChange,
    MarketDataRequest,
    RejectReason,
    RequestReject,
    Snapshot,
)
from sor_daemon.sim.orders import Side
from sor_daemon.sim.settings import default_instruments
from sor_daemon.sim.subscriptions import (
    ActiveSubscription,
    EndedSubscription,
    MarketDataDesk,
)
from sor_daemon.sim.tape import Trade

from .conftest import START

BTC = "DERIBIT_PERP_BTC_USD"
ETH = "DERIBIT_PERP_ETH_USD"
LATER = START + timedelta(seconds=1)


def book(best_bid: int, size: str = "1") -> Book:
    return Book(
        bids=tuple(Level(D(best_bid - i), D(size)) for i in range(4)),
        asks=tuple(Level(D(best_bid + 1 + i), D(size)) for i in range(4)),
    )


def trade(number: int, symbol_id: str = BTC) -> Trade:
    return Trade(symbol_id, f"T-{number}", START, D(100), D("0.5"), Side.SELL)


@attrs.define
class FakeMarket:
    """Books and printed trades set by the test."""

    books: dict[str, Book]
    printed: dict[str, list[Trade]] = attrs.field(factory=dict)

    def book(self, symbol_id: str) -> Book | None:
        return self.books.get(symbol_id)

    def last_trade(self, symbol_id: str) -> Trade | None:
        return trade(0, symbol_id)

    def feed_update(self, symbol_ids: Iterable[str]) -> FeedUpdate:
        printed, self.printed = self.printed, {}
        return FeedUpdate({s: self.books[s] for s in symbol_ids}, printed)


def request(
    md_req_id: str,
    *symbols: str,
    request_type: str = "1",
    depth: str = "2",
    entry_types: str = "012",
) -> MarketDataRequest:
    return MarketDataRequest(
        md_req_id=md_req_id,
        request_type=request_type,
        depth=depth,
        update_type="1",
        entry_types=tuple(entry_types),
        symbols=symbols or (BTC,),
    )


def desk_over(market: FakeMarket) -> MarketDataDesk:
    return MarketDataDesk(default_instruments(), market, levels=4)


def test_a_subscription_gets_its_depth_then_only_what_changed_and_the_trades() -> None:
    market = FakeMarket({BTC: book(100)})
    desk = desk_over(market)
    [snapshot] = desk.handle(request("a"), START, frozen=False)
    assert snapshot == Snapshot("a", BTC, book(100).bids[:2], book(100).asks[:2], None, START)
    assert desk.publish(LATER, frozen=False) == []
    market.books[BTC] = book(101)
    market.printed = {BTC: [trade(1), trade(2)], ETH: [trade(3, ETH)]}
    [update] = desk.publish(LATER, frozen=False)
    assert update == Incremental(
        "a",
        BTC,
        (
            LevelChange(BookSide.BID, D(99), D(0)),
            LevelChange(BookSide.BID, D(101), D(1)),
            LevelChange(BookSide.OFFER, D(101), D(0)),
            LevelChange(BookSide.OFFER, D(103), D(1)),
        ),
        (trade(1), trade(2)),
        LATER,
    )


def test_entry_types_choose_between_the_book_and_the_trades() -> None:
    market = FakeMarket({BTC: book(100)})
    desk = desk_over(market)
    [book_only] = desk.handle(request("book", entry_types="01"), START, frozen=False)
    [trades_only] = desk.handle(request("tape", entry_types="2"), START, frozen=False)
    assert (book_only.trade, len(book_only.bids)) == (None, 2)
    assert (trades_only.trade, trades_only.bids, trades_only.asks) == (trade(0), (), ())
    market.books[BTC] = book(100, size="2")
    market.printed = {BTC: [trade(1)]}
    book_update, tape_update = desk.publish(LATER, frozen=False)
    assert (book_update.md_req_id, book_update.trades, len(book_update.changes)) == ("book", (), 4)
    assert (tape_update.md_req_id, tape_update.changes, tape_update.trades) == (
        "tape",
        (),
        (trade(1),),
    )


def test_a_freeze_holds_everything_back_and_the_thaw_diffs_against_what_was_sent() -> None:
    market = FakeMarket({BTC: book(100), ETH: book(3000)})
    desk = desk_over(market)
    desk.handle(request("old"), START, frozen=False)
    assert desk.handle(request("new", ETH), START, frozen=True) == []
    market.books[BTC] = book(101)
    market.printed = {BTC: [trade(1)]}
    assert desk.publish(LATER, frozen=True) == []
    market.books[BTC] = book(102)
    old, new = desk.publish(LATER, frozen=False)
    assert isinstance(old, Incremental) and old.trades == ()
    assert {(c.side, c.price, c.size) for c in old.changes} == {
        (BookSide.BID, D(100), D(0)),
        (BookSide.BID, D(99), D(0)),
        (BookSide.BID, D(102), D(1)),
        (BookSide.BID, D(101), D(1)),
        (BookSide.OFFER, D(101), D(0)),
        (BookSide.OFFER, D(102), D(0)),
        (BookSide.OFFER, D(103), D(1)),
        (BookSide.OFFER, D(104), D(1)),
    }
    assert isinstance(new, Snapshot) and new.symbol_id == ETH


def test_snapshot_requests_answer_once_and_patterns_name_several_symbols() -> None:
    market = FakeMarket({BTC: book(100), ETH: book(3000)})
    desk = desk_over(market)
    answers = desk.handle(
        request("once", "^deribit_perp_.*$", request_type="0", depth="0"), START, frozen=False
    )
    assert {(a.md_req_id, a.symbol_id, len(a.bids)) for a in answers} == {
        ("once", BTC, 4),
        ("once", ETH, 4),
    }
    assert desk.listing().active == ()
    market.books[BTC] = book(101)
    assert desk.publish(LATER, frozen=False) == []


def test_unsubscribes_are_listed_and_a_session_end_drops_every_subscription() -> None:
    desk = desk_over(FakeMarket({BTC: book(100), ETH: book(3000)}))
    desk.handle(request("both", BTC, ETH), START, frozen=False)
    desk.handle(request("eth", ETH, depth="0"), START, frozen=False)
    assert desk.handle(request("both", request_type="2"), LATER, frozen=False) == []
    [unknown] = desk.handle(request("both", request_type="2"), LATER, frozen=False)
    assert desk.listing().active == (ActiveSubscription("eth", ETH, 0),)
    desk.end_session()
    listing = desk.listing()
    assert listing.active == ()
    assert listing.unsubscribed == (
        EndedSubscription("both", BTC, LATER),
        EndedSubscription("both", ETH, LATER),
    )
    assert isinstance(unknown, RequestReject)
    assert unknown.reason is RejectReason.UNKNOWN_SYMBOL


def test_a_duplicate_id_is_refused_while_its_subscription_lives() -> None:
    desk = desk_over(FakeMarket({BTC: book(100), ETH: book(3000)}))
    desk.handle(request("a"), START, frozen=False)
    [duplicate] = desk.handle(request("a", ETH), START, frozen=False)
    assert isinstance(duplicate, RequestReject)
    assert duplicate.reason is RejectReason.DUPLICATE_MD_REQ_ID
    desk.handle(request("a", request_type="2"), START, frozen=False)
    [again] = desk.handle(request("a", ETH), START, frozen=False)
    assert isinstance(again, Snapshot)
