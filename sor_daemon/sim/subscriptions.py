"""The market-data desk: who subscribed to what, and what each subscriber is sent.

``MarketDataDesk`` is sans-IO, like the exchange: it takes a checked request or a publish tick
with the time, reads the market through a ``MarketSource`` (the exchange), and returns the
values to send. One subscription per symbol a request names (a ``^...$`` pattern names several,
all under the request's MDReqID). A subscription is sent a snapshot first, then on every publish
one incremental refresh when its book changed at its depth or trades printed; it remembers the
book it was last sent, so a publish that is held back (the freeze fault) loses nothing: the next
one diffs against what the subscriber really has. A snapshot request is a subscription that ends
with its snapshot.

Not thread-safe: the market-data application holds its lock around every call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import attrs

from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.sim.depth import EMPTY_BOOK, cut, level_changes
from sor_daemon.sim.exchange import FeedUpdate
from sor_daemon.sim.market import Book
from sor_daemon.sim.mdmessages import (
    Incremental,
    MarketDataRequest,
    MdOutbound,
    RejectReason,
    RequestReject,
    Snapshot,
)
from sor_daemon.sim.mdrequests import RequestRejected, Subscribe, check
from sor_daemon.sim.tape import Trade

UNSUBSCRIBED_KEPT = 1000
"""How many explicit unsubscribes the listing remembers (the newest)."""


class MarketSource(Protocol):
    """What the desk reads the market from (``SimulatedExchange`` is one)."""

    def book(self, symbol_id: str) -> Book | None: ...

    def last_trade(self, symbol_id: str) -> Trade | None: ...

    def feed_update(self, symbol_ids: Iterable[str]) -> FeedUpdate: ...


@attrs.frozen
class ActiveSubscription:
    """One symbol a subscriber follows; ``depth`` as asked (0 = the full book)."""

    md_req_id: str
    symbol_id: str
    depth: int


@attrs.frozen
class EndedSubscription:
    """One symbol a subscriber unsubscribed from, and when."""

    md_req_id: str
    symbol_id: str
    at: datetime


@attrs.frozen
class SubscriptionListing:
    """The live subscriptions, and the explicit unsubscribes in the order they came."""

    active: tuple[ActiveSubscription, ...]
    unsubscribed: tuple[EndedSubscription, ...]


@attrs.define
class _Subscription:
    request: Subscribe
    instrument: Instrument
    sent: Book | None = None

    @property
    def symbol_id(self) -> str:
        return self.instrument.symbol_id_coinapi


class MarketDataDesk:
    """The subscriptions of one market-data session."""

    def __init__(self, instruments: InstrumentTable, source: MarketSource, levels: int) -> None:
        self._instruments = instruments
        self._source = source
        self._levels = levels
        self._subscriptions: list[_Subscription] = []
        self._unsubscribed: deque[EndedSubscription] = deque(maxlen=UNSUBSCRIBED_KEPT)

    def handle(
        self, request: MarketDataRequest, now: datetime, *, frozen: bool
    ) -> list[MdOutbound]:
        """Answer a MarketDataRequest: snapshots (held back while ``frozen``), or a reject."""
        try:
            checked = check(request, self._instruments, self._levels)
            if not isinstance(checked, Subscribe):
                self._unsubscribe(checked.md_req_id, now)
                return []
            if any(s.request.md_req_id == checked.md_req_id for s in self._subscriptions):
                raise RequestRejected(
                    RejectReason.DUPLICATE_MD_REQ_ID,
                    f"MDReqID {checked.md_req_id} is already in use by a subscription; "
                    "every request needs a new one",
                )
        except RequestRejected as rejected:
            return [RequestReject(request.md_req_id, rejected.reason, rejected.text)]
        added = [_Subscription(checked, instrument) for instrument in checked.instruments]
        self._subscriptions.extend(added)
        if frozen:
            return []
        return [self._snapshot(s, self._source.book(s.symbol_id) or EMPTY_BOOK, now) for s in added]

    def publish(self, now: datetime, *, frozen: bool) -> list[MdOutbound]:
        """What every subscriber is sent now; the trades printed so far are taken either way."""
        update = self._source.feed_update({s.symbol_id for s in self._subscriptions})
        if frozen:
            return []
        outbound: list[MdOutbound] = []
        for subscription in list(self._subscriptions):
            book = update.books.get(subscription.symbol_id, EMPTY_BOOK)
            if subscription.sent is None:
                outbound.append(self._snapshot(subscription, book, now))
                continue
            changes = ()
            if subscription.request.book:
                current = cut(book, subscription.request.levels)
                changes = level_changes(subscription.sent, current)
                subscription.sent = current
            trades = ()
            if subscription.request.trades:
                trades = tuple(update.trades.get(subscription.symbol_id, ()))
            if changes or trades:
                outbound.append(
                    Incremental(
                        md_req_id=subscription.request.md_req_id,
                        symbol_id=subscription.symbol_id,
                        changes=changes,
                        trades=trades,
                        time=now,
                    )
                )
        return outbound

    def end_session(self) -> None:
        """The session logged out: every subscription ends with it."""
        self._subscriptions.clear()

    def listing(self) -> SubscriptionListing:
        """The live subscriptions (snapshot requests are not) and the unsubscribes so far."""
        return SubscriptionListing(
            active=tuple(
                ActiveSubscription(s.request.md_req_id, s.symbol_id, s.request.depth)
                for s in self._subscriptions
                if not s.request.snapshot_only
            ),
            unsubscribed=tuple(self._unsubscribed),
        )

    def _snapshot(self, subscription: _Subscription, book: Book, now: datetime) -> Snapshot:
        request = subscription.request
        sent = cut(book, request.levels) if request.book else EMPTY_BOOK
        if request.snapshot_only:
            self._subscriptions.remove(subscription)
        else:
            subscription.sent = sent
        return Snapshot(
            md_req_id=request.md_req_id,
            symbol_id=subscription.symbol_id,
            bids=sent.bids,
            asks=sent.asks,
            trade=None if request.book else self._source.last_trade(subscription.symbol_id),
            time=now,
        )

    def _unsubscribe(self, md_req_id: str, now: datetime) -> None:
        ending = [
            s
            for s in self._subscriptions
            if s.request.md_req_id == md_req_id and not s.request.snapshot_only
        ]
        if not ending:
            raise RequestRejected(
                RejectReason.UNKNOWN_SYMBOL,
                f"no subscription has MDReqID {md_req_id}: an unsubscribe (263=2) repeats the "
                "MDReqID (262) of a live subscription",
            )
        for subscription in ending:
            self._subscriptions.remove(subscription)
            self._unsubscribed.append(EndedSubscription(md_req_id, subscription.symbol_id, now))
