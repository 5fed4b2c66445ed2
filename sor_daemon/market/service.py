"""``MarketData``: the books and traded volume the engine reads, kept from the market-data feed.

It owns the symbols' subscriptions, counting watchers: the first ``watch`` of a symbol
subscribes, the last ``unwatch`` unsubscribes, and on every logon each watched symbol is
subscribed again (subscriptions die with the connection). A subscription's snapshot starts the
symbol's book and its tape; increments keep them. When the session drops, every book and tape is
thrown away, so nothing stale is routed on and no stretch with a gap is taken for complete; a
rejected subscription leaves its symbol without a book (and says why in the log) until the next
logon tries again.

Volume comes from the live tapes where they saw the whole stretch, and from CoinAPI's OHLCV
history for the other symbols. One task (``run``) applies the feed; ``watch`` and ``unwatch``
change the subscriptions from the runners' tasks without awaiting, and ``activity`` reads the
tapes before it awaits anything, so no state needs a lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

import attrs
import structlog
import trio

from sor_daemon.domain.market import BookView, MarketActivity
from sor_daemon.engine.clock import Clock
from sor_daemon.fix.market_data import FeedDown, FeedUp, MarketDataEvent
from sor_daemon.fix.md_dialect import BookSnapshot, MarketDataRejected, MarketUpdate
from sor_daemon.market.book import OrderBook
from sor_daemon.market.history import OhlcvHistory, history_traded
from sor_daemon.market.shared_history import SharedHistory
from sor_daemon.market.tape import TradeTape

log = structlog.get_logger(__name__)

ZERO = Decimal(0)


class MarketDataFeed(Protocol):
    """The market-data session as ``MarketData`` uses it (``fix.market_data.MarketDataSession``)."""

    @property
    def is_up(self) -> bool:
        """True while subscriptions can be sent."""
        ...

    @property
    def events(self) -> trio.MemoryReceiveChannel[MarketDataEvent]:
        """What the session hears: FeedUp, FeedDown, snapshots, updates, rejects."""
        ...

    def subscribe(self, symbol_id: str, depth: int) -> str | None:
        """Subscribe to a symbol; its MDReqID, or None when the request did not leave."""
        ...

    def unsubscribe(self, symbol_id: str) -> bool:
        """End a symbol's subscription; False when it had none or the request did not leave."""
        ...


@attrs.frozen
class _Live:
    """A symbol followed live since its subscription's snapshot: its book and its tape."""

    book: OrderBook
    tape: TradeTape


class MarketData:
    """Implements the engine's ``MarketView`` over the market-data feed and the OHLCV history.

    ``depth`` is how many levels a side each book keeps (and each subscription asks for);
    ``tape_retention`` how far back the live tapes can answer for. ``history`` is asked through
    a ``SharedHistory``: orders that need the same rows at about the same time share a request.
    """

    def __init__(
        self,
        feed: MarketDataFeed,
        history: OhlcvHistory,
        clock: Clock,
        *,
        depth: int = 5,
        tape_retention: timedelta = timedelta(hours=1),
    ) -> None:
        self._feed = feed
        self._history = SharedHistory(history)
        self._clock = clock
        self._depth = depth
        self._tape_retention = tape_retention
        self._watchers: Counter[str] = Counter()
        self._requests: dict[str, str] = {}
        self._live: dict[str, _Live] = {}

    def watch(self, symbol_ids: Iterable[str]) -> None:
        """One more watcher of each of these symbols; the first one subscribes."""
        for symbol_id in dict.fromkeys(symbol_ids):
            self._watchers[symbol_id] += 1
            if self._watchers[symbol_id] == 1:
                self._subscribe(symbol_id)

    def unwatch(self, symbol_ids: Iterable[str]) -> None:
        """One watcher fewer of each of these symbols; the last one out unsubscribes."""
        for symbol_id in dict.fromkeys(symbol_ids):
            if self._watchers[symbol_id] <= 0:
                continue
            self._watchers[symbol_id] -= 1
            if self._watchers[symbol_id] == 0:
                del self._watchers[symbol_id]
                self._feed.unsubscribe(symbol_id)
                self._forget(symbol_id)

    def book(self, symbol_id: str) -> BookView | None:
        """The symbol's book as last heard, or None when there is no live one."""
        live = self._live.get(symbol_id)
        return None if live is None else live.book.view()

    async def activity(
        self, symbol_ids: Sequence[str], start: datetime, end: datetime
    ) -> MarketActivity | None:
        """What these symbols traded together in ``[start, end)``; None when it cannot be known.

        Each symbol answers from its live tape when the tape saw the whole stretch, otherwise
        from the OHLCV history (see ``sor_daemon.market.history`` for its approximation).
        """
        volume = notional = ZERO
        if end <= start:
            return MarketActivity(start=start, end=end, volume=volume, notional=notional)
        now = self._clock.now()
        unseen: list[str] = []
        for symbol_id in dict.fromkeys(symbol_ids):
            live = self._live.get(symbol_id)
            if live is not None and live.tape.covers(start, end, now):
                tape_volume, tape_notional = live.tape.traded(start, end)
                volume += tape_volume
                notional += tape_notional
            else:
                unseen.append(symbol_id)
        if unseen:
            from_history = await history_traded(self._history, unseen, start, end)
            if from_history is None:
                log.warning(
                    "market activity unknown: the live feed did not see it all and the OHLCV "
                    "history could not be had",
                    symbol_ids=unseen,
                    start=start.isoformat(),
                    end=end.isoformat(),
                )
                return None
            volume += from_history[0]
            notional += from_history[1]
        return MarketActivity(start=start, end=end, volume=volume, notional=notional)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Apply the feed's events until cancelled."""
        task_status.started()
        async for event in self._feed.events:
            self._apply(event)

    def _apply(self, event: MarketDataEvent) -> None:
        if isinstance(event, BookSnapshot):
            self._on_snapshot(event)
        elif isinstance(event, MarketUpdate):
            self._on_update(event)
        elif isinstance(event, MarketDataRejected):
            self._on_rejected(event)
        elif isinstance(event, FeedUp | FeedDown):
            # Either way the server holds none of our subscriptions now.
            self._requests.clear()
            self._live.clear()
            if isinstance(event, FeedUp):
                for symbol_id in self._watchers:
                    self._subscribe(symbol_id)

    def _subscribe(self, symbol_id: str) -> None:
        md_req_id = self._feed.subscribe(symbol_id, self._depth)
        if md_req_id is not None:
            self._requests[md_req_id] = symbol_id

    def _forget(self, symbol_id: str) -> None:
        """Drop a symbol's book, tape and request: it is no longer followed live."""
        self._live.pop(symbol_id, None)
        for md_req_id in [r for r, s in self._requests.items() if s == symbol_id]:
            del self._requests[md_req_id]

    def _on_snapshot(self, snapshot: BookSnapshot) -> None:
        symbol_id = snapshot.symbol_id
        requested = (
            symbol_id in self._requests.values()
            if snapshot.md_req_id is None
            else self._requests.get(snapshot.md_req_id) == symbol_id
        )
        if not requested:
            return
        now = self._clock.now()
        live = self._live.get(symbol_id)
        if live is None:
            self._live[symbol_id] = _Live(
                OrderBook(symbol_id, self._depth, snapshot.bids, snapshot.asks, now),
                TradeTape(now, self._tape_retention),
            )
        else:
            live.book.replace(snapshot.bids, snapshot.asks, now)

    def _on_update(self, update: MarketUpdate) -> None:
        if update.md_req_id is not None and update.md_req_id not in self._requests:
            return
        now = self._clock.now()
        for change in update.changes:
            live = self._live.get(change.symbol_id)
            if live is not None:
                live.book.change(change.side, change.price, change.size, now)
        for trade in update.trades:
            live = self._live.get(trade.symbol_id)
            if live is not None:
                live.tape.record(trade.price, trade.size, trade.at, now)
                live.book.touch(now)

    def _on_rejected(self, rejected: MarketDataRejected) -> None:
        symbol_id = self._requests.pop(rejected.md_req_id, None)
        if symbol_id is None:
            return
        log.warning(
            "market data subscription rejected",
            symbol_id=symbol_id,
            md_req_id=rejected.md_req_id,
            reason=rejected.reason_text,
            text=rejected.text,
        )
        self._forget(symbol_id)
