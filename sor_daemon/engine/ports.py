"""What the engine needs from the outside world, as protocols the edges implement.

The FIX layer implements ``OrderGateway``; market data implements ``MarketView``; the EMS's REST
API implements ``AccountSource``. The engine never imports them: tests can plug in an in-Trio
venue, the daemon plugs in the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs

from sor_daemon.domain.children import ChildOrder
from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.market import BookView, MarketActivity
from sor_daemon.domain.values import ChildReport


@attrs.frozen
class SessionUp:
    """The EMS session logged on: child orders may be sent."""


@attrs.frozen
class SessionDown:
    """The EMS session is gone: nothing may be sent until it is back."""

    reason: str = "EMS session logged out"


GatewayEvent = SessionUp | SessionDown | ChildReport


class GatewayNews(Protocol):
    """Where the EMS session's events come from (a ``Relay``): handed to one listener, on the
    Trio thread, as they come."""

    def listen(self, listener: Callable[[GatewayEvent], None] | None) -> None:
        """Hand every event to ``listener`` from now on, starting with those kept so far; None
        stops it (events are kept again)."""
        ...


class OrderGateway(Protocol):
    """The EMS session, as the engine sees it. Its events come through ``GatewayNews``."""

    @property
    def is_up(self) -> bool:
        """True while child orders can be sent."""
        ...

    def send_new(self, child: ChildPlanned) -> bool:
        """Send a child order; False when it certainly did not leave."""
        ...

    def request_status(self, child: ChildOrder) -> bool:
        """Ask the EMS for a child's current state; False when it could not be asked."""
        ...

    def mass_cancel(self, exchange: str) -> bool:
        """Ask the EMS to cancel every order on ``exchange``; False when it could not be asked."""
        ...


class MarketView(Protocol):
    """The market as the algorithms and the router see it: books and traded volume.

    Symbols are CoinAPI symbol ids. A runner watches its symbols for as long as it trades, so the
    market data follows the running orders.
    """

    def watch(self, symbol_ids: Iterable[str]) -> None:
        """Start following these symbols (a no-op for those already followed)."""
        ...

    def unwatch(self, symbol_ids: Iterable[str]) -> None:
        """Stop following these symbols for one watcher; the last one out unsubscribes."""
        ...

    def book(self, symbol_id: str) -> BookView | None:
        """The symbol's current book, or None when there is none."""
        ...

    async def activity(
        self, symbol_ids: Sequence[str], start: datetime, end: datetime
    ) -> MarketActivity | None:
        """What these symbols traded together between ``start`` and ``end``; None if unknown."""
        ...


class AccountSource(Protocol):
    """The EMS account: balances, open orders and positions in the EMS's JSON shapes."""

    async def balances(self) -> Any:
        """Balances grouped by exchange."""
        ...

    async def open_orders(self) -> Any:
        """Open orders grouped by exchange."""
        ...

    async def positions(self) -> Any:
        """Positions grouped by exchange."""
        ...
