"""The trading knobs the engine reads: price tolerance, patience with the EMS, reject limits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs


@attrs.frozen
class TradingSettings:
    """How the engine trades; every field has a default a desk can start with."""

    price_tolerance_bps: Decimal = Decimal(10)
    session_down_grace: timedelta | None = timedelta(seconds=30)
    max_consecutive_rejects: int = 3
    quote_retry: timedelta = timedelta(seconds=1)
    reconcile_timeout: timedelta = timedelta(seconds=5)
