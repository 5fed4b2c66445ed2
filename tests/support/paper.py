"""An in-Trio venue for driving the engine under MockClock.

Real FIX timers cannot follow a mock clock, so long schedules are tested against this venue: it
fills every child in full at its limit price (or rejects it, when told to) and quotes a fixed
book. The real FIX path is tested against the bundled simulator on the real clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import trio

from sor_daemon.domain.children import ChildOrder
from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.market import BookView, MarketActivity, PriceLevel
from sor_daemon.domain.values import ChildReport, ChildStatus
from sor_daemon.engine.clock import Clock
from sor_daemon.engine.ports import GatewayEvent
from sor_daemon.engine.relay import Relay


class PaperVenue:
    """Implements OrderGateway: every child fills in full the moment it is sent.

    ``acknowledge`` reports each child New before its fill, as a venue does; ``silent``
    executes orders without reporting them (a report lost with the connection);
    ``answer_status`` says whether status requests get an answer.
    """

    def __init__(self, clock: Clock) -> None:
        self.news = Relay[GatewayEvent]()
        self._clock = clock
        self.is_up = True
        self.acknowledge = False
        self.reject_with: str | None = None
        self.silent = False
        self.answer_status = True
        self.status_requests: list[str] = []
        self.executed: dict[str, ChildReport] = {}
        self.sent: list[tuple[ChildPlanned, object]] = []
        self.mass_cancels: list[str] = []

    def send_new(self, child: ChildPlanned) -> bool:
        if not self.is_up:
            return False  # a session that is down takes nothing
        self.sent.append((child, self._clock.now()))
        if self.reject_with is not None:
            report = ChildReport(
                child.child_id, ChildStatus.REJECTED, Decimal(0), text=self.reject_with
            )
        else:
            report = ChildReport(
                child.child_id,
                ChildStatus.FILLED,
                child.quantity,
                avg_px=child.price,
                last_qty=child.quantity,
                last_px=child.price,
            )
        self.executed[child.child_id] = report
        if self.silent:
            return True
        if self.acknowledge:
            self.news.publish(ChildReport(child.child_id, ChildStatus.NEW, Decimal(0)))
        self.news.publish(report)
        return True

    def mass_cancel(self, exchange: str) -> bool:
        self.mass_cancels.append(exchange)
        return self.is_up

    def request_status(self, child: ChildOrder) -> bool:
        self.status_requests.append(child.id)
        if self.answer_status:
            known = self.executed.get(child.id)
            self.news.publish(
                known
                or ChildReport(
                    child.id,
                    ChildStatus.CANCELED,
                    Decimal(0),
                    text="unknown order",
                    status_request=True,
                )
            )
        return True


class StaticMarket:
    """Implements MarketView: the same fresh book on every venue, and a steady traded volume.

    ``watched`` counts the watchers of each symbol, so a test can see subscriptions follow the
    running orders; ``frozen`` stops the books from refreshing (they go stale); ``busy`` holds
    every ``activity`` call until the event is set (a runner kept busy planning a slice).
    """

    def __init__(
        self,
        clock: Clock,
        bid: str = "66370",
        ask: str = "66371",
        volume_per_second: str = "10",
    ) -> None:
        self._clock = clock
        self._bid = Decimal(bid)
        self._ask = Decimal(ask)
        self.volume_per_second = Decimal(volume_per_second)
        self.watched: Counter[str] = Counter()
        self.frozen_at: datetime | None = None
        self.busy: trio.Event | None = None

    def quote(self, bid: str, ask: str) -> None:
        """Move the market: every venue's book shows this bid and ask from now on."""
        self._bid = Decimal(bid)
        self._ask = Decimal(ask)

    def watch(self, symbol_ids: Iterable[str]) -> None:
        self.watched.update(symbol_ids)

    def unwatch(self, symbol_ids: Iterable[str]) -> None:
        self.watched.subtract(symbol_ids)
        self.watched = +self.watched

    def book(self, symbol_id: str) -> BookView:
        size = Decimal(100)
        return BookView(
            symbol_id,
            (PriceLevel(self._bid, size),),
            (PriceLevel(self._ask, size),),
            self.frozen_at or self._clock.now(),
        )

    async def activity(
        self, symbol_ids: Sequence[str], start: datetime, end: datetime
    ) -> MarketActivity:
        if self.busy is not None:
            await self.busy.wait()
        volume = self.volume_per_second * Decimal((end - start).total_seconds())
        return MarketActivity(start, end, volume, volume * (self._bid + self._ask) / 2)
