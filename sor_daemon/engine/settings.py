"""The trading knobs the engine reads: pricing, market data age, VWAP, patience with the EMS."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs

from sor_daemon.domain.router import RoutingPolicy
from sor_daemon.domain.smart_order import SlicePolicy
from sor_daemon.domain.vwap import DEFAULT_SAFETY_THRESHOLD


@attrs.frozen
class TradingSettings:
    """How the engine trades; every field has a default a desk can start with.

    ``market_data_retry`` is how soon a slice that found no usable venue looks again.
    ``slice_lead`` is how long before its due time a slice is planned and journaled, so that
    its children leave on time rather than one journal commit late.
    """

    price_tolerance_bps: Decimal = Decimal(10)
    max_book_age: timedelta = timedelta(seconds=10)
    complete_at_end: bool = False
    default_safety_threshold: Decimal = DEFAULT_SAFETY_THRESHOLD
    session_down_grace: timedelta | None = timedelta(seconds=30)
    max_consecutive_rejects: int = 3
    market_data_retry: timedelta = timedelta(milliseconds=250)
    reconcile_timeout: timedelta = timedelta(seconds=5)
    slice_lead: timedelta = timedelta(milliseconds=50)

    @property
    def slice_policy(self) -> SlicePolicy:
        """The rules the domain plans slices by."""
        return SlicePolicy(
            routing=RoutingPolicy(self.price_tolerance_bps, self.max_book_age),
            complete_at_end=self.complete_at_end,
            default_safety_threshold=self.default_safety_threshold,
            lead=self.slice_lead,
        )
