"""The engine as one API key sees it: REST and the feed socket both command it through here.

A key's name is the ``origin`` of the smart orders it submits. A trader sees, cancels and updates
only orders of its own origin; a viewer sees every order and commands none; an admin does it all.
A key may have at most ``max_open_orders`` orders running at once (counting the ones being
accepted right now, so two submissions at the same moment cannot both slip under the limit).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import AsyncIterator

from sor_daemon.api.keys import Principal, Role
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.engine.engine import Engine
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import NewSmartOrder, ParameterChanges


class Desk:
    """Submit, cancel, change and list smart orders on behalf of a Principal."""

    def __init__(self, engine: Engine, max_open_orders: int | None = None) -> None:
        self._engine = engine
        self._max_open_orders = max_open_orders
        self._accepting: Counter[str] = Counter()

    def sees(self, principal: Principal, order: SmartOrder) -> bool:
        """True when ``principal`` may see ``order``: a trader sees only its own."""
        return principal.role != Role.TRADER or order.origin == principal.name

    def order_views(self, principal: Principal, newest: int | None) -> AsyncIterator[list[str]]:
        """The encoded views of the orders ``principal`` may see, live and retired, oldest
        first, a page at a time: every one, or the ``newest`` ones."""
        return self._engine.order_views(functools.partial(self.sees, principal), newest)

    def encoded_view(self, order: SmartOrder) -> str:
        """``order`` as GET /requests lists it, as JSON text."""
        return self._engine.encoded_view(order)

    def order(self, principal: Principal, order_id: str) -> SmartOrder:
        """One order ``principal`` may see; ProtocolError if there is none or it may not."""
        return self._seen(principal, order_id, "see")

    def feed_origin(self, principal: Principal) -> str | None:
        """The origin a principal's feed is narrowed to (a trader's own), or None for all."""
        return principal.name if principal.role == Role.TRADER else None

    async def submit(self, principal: Principal, request: NewSmartOrder) -> SmartOrder:
        """Start a smart order with the key's name as its origin; ProtocolError if refused."""
        _require_trader(principal, "submit")
        self._check_open_orders(principal)
        self._accepting[principal.name] += 1
        try:
            return await self._engine.submit(request, origin=principal.name)
        finally:
            self._accepting[principal.name] -= 1

    async def cancel(self, principal: Principal, order_id: str) -> SmartOrder:
        """Cancel an order the principal may command; ProtocolError if refused."""
        self._own(principal, order_id, "cancel")
        return await self._engine.cancel(order_id)

    async def change(
        self, principal: Principal, order_id: str, changes: ParameterChanges
    ) -> SmartOrder:
        """Change an order the principal may command; ProtocolError if refused."""
        self._own(principal, order_id, "update")
        return await self._engine.change(order_id, changes)

    def _own(self, principal: Principal, order_id: str, action: str) -> None:
        _require_trader(principal, action)
        self._seen(principal, order_id, action)

    def _seen(self, principal: Principal, order_id: str, action: str) -> SmartOrder:
        order = self._engine.get(order_id)
        if not self.sees(principal, order):
            raise ProtocolError(
                "FORBIDDEN",
                f"smart order {order_id} was submitted with another API key; the trader key "
                f"{principal.name!r} may {action} only its own orders",
            )
        return order

    def _check_open_orders(self, principal: Principal) -> None:
        limit = self._max_open_orders
        if limit is None:
            return
        running = sum(
            1
            for order in self._engine.live_orders()
            if order.origin == principal.name and not order.status.terminal
        )
        if running + self._accepting[principal.name] >= limit:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"the key {principal.name!r} already has {limit} smart orders running, its "
                "limit (api.max_open_orders_per_key): wait for one to end or cancel one",
            )


def _require_trader(principal: Principal, action: str) -> None:
    if principal.role < Role.TRADER:
        raise ProtocolError(
            "FORBIDDEN",
            f"the key {principal.name!r} is a {principal.role.label}: it may read, not {action}",
        )
