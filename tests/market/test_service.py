"""MarketData driven by an in-Trio feed that hands it real decoded values, on Trio's mock clock.

The fake feed behaves as ``MarketDataSession`` does toward its owner: it subscribes only while
logged on, keeps one subscription per symbol, and forgets them all when the session goes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import trio
import trio.testing

from sor_daemon.coinapi.ohlcv import OhlcvRow
from sor_daemon.coinapi.rest import UpstreamError
from sor_daemon.domain.market import MarketActivity, PriceLevel
from sor_daemon.engine.clock import TrioClock
from sor_daemon.fix.market_data import FeedDown, FeedUp, MarketDataEvent
from sor_daemon.fix.md_dialect import (
    BookSide,
    BookSnapshot,
    LevelChange,
    MarketDataRejected,
    MarketUpdate,
    Trade,
)
from sor_daemon.market.service import MarketData
from sor_daemon.protocol.messages import Side

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)
BTC = "KRAKEN_SPOT_BTC_USD"
ETH = "KRAKEN_SPOT_ETH_USD"


def after(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class FakeFeed:
    """A market-data session in Trio: the test logs it on, drops it, and says what it hears."""

    def __init__(self) -> None:
        self.is_up = False
        self._send, self.events = trio.open_memory_channel[MarketDataEvent](math.inf)
        self._ids = itertools.count(1)
        self.subscriptions: dict[str, str] = {}
        self.sent: list[tuple[str, str, str]] = []

    def subscribe(self, symbol_id: str, depth: int) -> str | None:
        if not self.is_up:
            return None
        if symbol_id not in self.subscriptions:
            md_req_id = f"md-{next(self._ids)}"
            self.subscriptions[symbol_id] = md_req_id
            self.sent.append(("subscribe", symbol_id, md_req_id))
        return self.subscriptions[symbol_id]

    def unsubscribe(self, symbol_id: str) -> bool:
        md_req_id = self.subscriptions.pop(symbol_id, None)
        if md_req_id is None or not self.is_up:
            return False
        self.sent.append(("unsubscribe", symbol_id, md_req_id))
        return True

    async def log_on(self) -> None:
        self.is_up = True
        self.subscriptions.clear()
        await self.hear(FeedUp())

    async def drop(self) -> None:
        self.is_up = False
        self.subscriptions.clear()
        await self.hear(FeedDown())

    async def hear(self, event: MarketDataEvent) -> None:
        """Hand ``event`` over and wait until MarketData has applied it."""
        self._send.send_nowait(event)
        await trio.testing.wait_all_tasks_blocked()

    async def snapshot(self, symbol_id: str, bid: str = "100", ask: str = "101") -> None:
        await self.hear(
            BookSnapshot(
                md_req_id=self.subscriptions[symbol_id],
                symbol_id=symbol_id,
                bids=(PriceLevel(Decimal(bid), Decimal(1)),),
                asks=(PriceLevel(Decimal(ask), Decimal(1)),),
                at=T0,
            )
        )

    async def trades(self, symbol_id: str, *trades: tuple[float, str, str]) -> None:
        await self.hear(
            MarketUpdate(
                md_req_id=self.subscriptions[symbol_id],
                changes=(),
                trades=tuple(
                    Trade(symbol_id, f"T{at}", Decimal(price), Decimal(size), Side.BUY, after(at))
                    for at, price, size in trades
                ),
            )
        )


class FakeHistory:
    """OHLCV rows per symbol; records what was asked; a symbol in ``failing`` raises."""

    def __init__(self) -> None:
        self.rows: dict[str, list[OhlcvRow]] = {}
        self.failing: set[str] = set()
        self.asked: list[tuple[str, str, datetime, datetime, int]] = []

    async def history(
        self, symbol_id: str, period_id: str, start: datetime, end: datetime, limit: int = 100
    ) -> list[OhlcvRow]:
        self.asked.append((symbol_id, period_id, start, end, limit))
        if symbol_id in self.failing:
            raise UpstreamError("answered 550: no data", 550)
        return self.rows.get(symbol_id, [])


def ohlcv(start_seconds: int, volume: str, price: str) -> OhlcvRow:
    start = after(start_seconds)
    value = Decimal(price)
    return OhlcvRow(
        start, start + timedelta(seconds=1), start, start, *[value] * 4, Decimal(volume), 1
    )


@pytest.fixture
def feed() -> FakeFeed:
    return FakeFeed()


@pytest.fixture
def history() -> FakeHistory:
    return FakeHistory()


@pytest.fixture
async def market(feed: FakeFeed, history: FakeHistory) -> AsyncIterator[MarketData]:
    subject = MarketData(feed, history, TrioClock(T0), depth=2)
    async with trio.open_nursery() as nursery:
        await nursery.start(subject.run)
        yield subject
        nursery.cancel_scope.cancel()


async def test_the_first_watcher_subscribes_once_logged_on_and_the_last_one_out_unsubscribes(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed
) -> None:
    market.watch([BTC])
    assert feed.sent == []  # not logged on yet

    await feed.log_on()
    market.watch([BTC, ETH])
    assert feed.sent == [("subscribe", BTC, "md-1"), ("subscribe", ETH, "md-2")]

    market.unwatch([BTC])
    assert ("unsubscribe", BTC, "md-1") not in feed.sent
    market.unwatch([BTC, ETH])
    assert feed.sent[2:] == [("unsubscribe", BTC, "md-1"), ("unsubscribe", ETH, "md-2")]

    market.unwatch([BTC])  # one too many changes nothing
    assert len(feed.sent) == 4


async def test_a_snapshot_starts_the_book_and_updates_keep_it(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed
) -> None:
    await feed.log_on()
    market.watch([BTC])
    assert market.book(BTC) is None

    await trio.sleep(1)
    await feed.snapshot(BTC)
    book = market.book(BTC)
    assert book is not None
    assert (book.best_bid, book.best_ask, book.at) == (Decimal(100), Decimal(101), after(1))

    await trio.sleep(1)
    await feed.hear(
        MarketUpdate(
            md_req_id="md-1",
            changes=(
                LevelChange(BTC, BookSide.BID, Decimal("100.5"), Decimal(2), T0),
                LevelChange(BTC, BookSide.ASK, Decimal(101), Decimal(0), T0),
                LevelChange(ETH, BookSide.ASK, Decimal(1), Decimal(1), T0),
            ),
            trades=(),
        )
    )
    book = market.book(BTC)
    assert book is not None
    assert book.bids == (
        PriceLevel(Decimal("100.5"), Decimal(2)),
        PriceLevel(Decimal(100), Decimal(1)),
    )
    assert (book.asks, book.at) == ((), after(2))
    assert market.book(ETH) is None  # not watched: its news is ignored

    await trio.sleep(1)
    await feed.trades(BTC, (2.5, "100.5", "1"))
    book = market.book(BTC)
    assert book is not None
    assert book.at == after(3)  # a trade is news of the symbol too


async def test_a_lost_session_drops_every_book_and_a_new_logon_subscribes_again(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed
) -> None:
    await feed.log_on()
    market.watch([BTC, ETH])
    await feed.snapshot(BTC)
    stale_request = feed.subscriptions[BTC]

    await feed.drop()
    assert market.book(BTC) is None

    await feed.log_on()
    assert feed.sent[2:] == [("subscribe", BTC, "md-3"), ("subscribe", ETH, "md-4")]
    await feed.hear(BookSnapshot(stale_request, BTC, (), (), T0))
    assert market.book(BTC) is None  # an answer to the old session's request is not used
    await feed.snapshot(BTC)
    assert market.book(BTC) is not None


async def test_a_rejected_subscription_leaves_its_symbol_without_a_book_until_next_logon(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed
) -> None:
    await feed.log_on()
    market.watch([BTC, ETH])
    await feed.snapshot(ETH)

    await feed.hear(MarketDataRejected(feed.subscriptions[BTC], "0", "unknown symbol"))
    await feed.snapshot(BTC)  # whatever the server sends for it now is not used

    assert market.book(BTC) is None
    assert market.book(ETH) is not None
    await feed.drop()
    await feed.log_on()
    assert feed.sent[-2:] == [("subscribe", BTC, "md-3"), ("subscribe", ETH, "md-4")]


async def test_activity_comes_from_the_live_tape_when_it_saw_the_whole_stretch(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed, history: FakeHistory
) -> None:
    await feed.log_on()
    market.watch([BTC, ETH])
    await feed.snapshot(BTC)
    await feed.snapshot(ETH)
    await trio.sleep(10)
    await feed.trades(BTC, (1.5, "100", "1"), (2.2, "102", "2"), (9.1, "101", "5"))
    await feed.trades(ETH, (2.0, "10", "3"))

    activity = await market.activity([BTC, ETH], after(1), after(3))

    assert activity == MarketActivity(after(1), after(3), Decimal(6), Decimal(334))
    assert history.asked == []


async def test_activity_falls_back_to_ohlcv_for_what_the_tape_did_not_see(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed, history: FakeHistory
) -> None:
    await feed.log_on()
    market.watch([BTC, ETH])
    await feed.snapshot(ETH)
    await trio.sleep(5)
    await feed.snapshot(BTC)  # live from 5 s on
    await trio.sleep(5)
    await feed.trades(ETH, (6.0, "10", "3"))
    history.rows[BTC] = [ohlcv(second, "1", "100") for second in range(10)]

    before_live = await market.activity([BTC, ETH], after(2), after(8))

    assert before_live == MarketActivity(after(2), after(8), Decimal(9), Decimal(630))
    assert history.asked == [(BTC, "1SEC", after(1), after(8), 8)]


async def test_activity_after_a_lost_session_comes_from_ohlcv(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed, history: FakeHistory
) -> None:
    await feed.log_on()
    market.watch([BTC])
    await feed.snapshot(BTC)
    await feed.trades(BTC, (1.0, "100", "1"))
    await trio.sleep(5)
    await feed.drop()
    await feed.log_on()
    await feed.snapshot(BTC)
    history.rows[BTC] = [ohlcv(1, "7", "100")]

    activity = await market.activity([BTC], after(0), after(5))

    assert activity == MarketActivity(after(0), after(5), Decimal(7), Decimal(700))
    assert [asked[0] for asked in history.asked] == [BTC]


async def test_activity_is_unknown_when_neither_the_tape_nor_ohlcv_can_answer(
    market: MarketData, autojump_clock: trio.testing.MockClock, feed: FakeFeed, history: FakeHistory
) -> None:
    history.failing.add(ETH)

    assert await market.activity([BTC, ETH], after(0), after(5)) is None
