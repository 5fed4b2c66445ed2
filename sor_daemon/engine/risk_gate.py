"""The risk gate between the algorithms and the EMS: the domain's checks, a rate per venue and
the kill switch.

Every slice's routes pass ``RiskGate.screen`` before they become child orders, so nothing the
gate refuses is journaled or sent. While ``halted`` (the kill switch, set by the engine) no
runner plans a slice at all. The per-child caps and the price collar are the pure checks of
``domain.risk``; the child order rate is a token bucket per venue on the engine's clock (so it
follows ``trio.testing.MockClock`` in tests). ``update`` swaps the limits while the daemon runs
(the reload hook calls it); the buckets keep their tokens, refilled at the new rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import attrs
import structlog

from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.risk import RiskLimits, Screened, check_order_amount, screen_routes
from sor_daemon.domain.router import Route
from sor_daemon.engine.clock import Clock

log = structlog.get_logger(__name__)


@attrs.define
class TokenBucket:
    """``rate`` tokens a second up to ``burst``; a child order takes one.

    Tokens are counted in floats: they are a count of children, not money, and every child
    takes one (Decimal arithmetic made each take three times as long)."""

    tokens: float
    updated: datetime

    def take(self, at: datetime, rate: Decimal, burst: int) -> bool:
        """Refill for the time from the last take to ``at``, then take a token if there is
        one. Takes are for when children are sent, not always in that order: a take for an
        earlier time refills nothing and leaves the bucket's time where it was."""
        elapsed = max((at - self.updated).total_seconds(), 0.0)
        self.tokens = min(float(burst), self.tokens + elapsed * float(rate))
        self.updated = max(self.updated, at)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RiskGate:
    """The current limits, the per-venue child order buckets and the halt, shared by every
    runner. ``halted`` is why trading is halted, or None; only the engine sets it."""

    def __init__(self, limits: RiskLimits, clock: Clock) -> None:
        self.limits = limits
        self.halted: str | None = None
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def update(self, limits: RiskLimits) -> None:
        """Trade on new limits from now on (a configuration reload)."""
        self.limits = limits
        log.info("risk limits updated", limits=repr(limits))

    def check_order(self, amount: Decimal, instruments: Sequence[Instrument]) -> None:
        """Refuse a smart order amount over the limit (ProtocolError INVALID_PARAMETER)."""
        check_order_amount(amount, instruments, self.limits)

    def screen(
        self, routes: Sequence[Route], mid: Decimal | None, send_at: datetime | None = None
    ) -> Screened:
        """The routes that may go out at ``send_at`` (now when None: a slice planned ahead is
        sent when due): within their caps and the collar, and within their venue's child order
        rate then. A route refused for the rate takes no token."""
        screened = screen_routes(routes, mid, self.limits)
        rate = self.limits.child_orders_per_second
        if rate is None:
            return screened
        at = max(send_at, self._clock.now()) if send_at else self._clock.now()
        allowed: list[Route] = []
        notes = list(screened.notes)
        for route in screened.routes:
            exchange = route.instrument.exchange
            bucket = self._buckets.get(exchange)
            if bucket is None:
                bucket = self._buckets[exchange] = TokenBucket(self.limits.child_order_burst, at)
            if bucket.take(at, rate, self.limits.child_order_burst):
                allowed.append(route)
            else:
                notes.append(
                    f"risk: child order rate for {exchange} over {rate:f} a second; child not sent"
                )
        return Screened(tuple(allowed), tuple(notes))
