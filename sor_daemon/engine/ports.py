"""What the engine needs from the outside world, as protocols the edges implement.

The FIX layer implements ``OrderGateway``; market data implements ``QuoteSource``; the EMS's REST
API implements ``AccountSource``. The engine never imports them: tests can plug in an in-Trio
venue, the daemon plugs in the real ones.
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.smart_order import ChildOrder
from sor_daemon.domain.values import ChildReport, Quote


@attrs.frozen
class SessionUp:
    """The EMS session logged on: child orders may be sent."""


@attrs.frozen
class SessionDown:
    """The EMS session is gone: nothing may be sent until it is back."""

    reason: str = "EMS session logged out"


GatewayEvent = SessionUp | SessionDown | ChildReport


class OrderGateway(Protocol):
    """The EMS session, as the engine sees it. Its events arrive on the engine's channel."""

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


class QuoteSource(Protocol):
    """Where the current top of book comes from."""

    async def quote(self, instrument: Instrument) -> Quote | None:
        """The current quote, or None when none is usable."""
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
