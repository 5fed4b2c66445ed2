"""Execution quality: how well a smart order traded against the market it traded in.

Computed from the order's own fills and the market samples its runner journaled at every slice
and once more when the order ended (``MarketSampled``), so the numbers survive a restart and
can be recomputed from the journal.

- **arrival price**: the mid when the order started (its first sample with a two-sided book);
- **average price**: the order's volume-weighted fill price;
- **slippage**: average price against arrival in basis points, signed as a cost: positive means
  the order paid more than arrival on a buy, or received less on a sell;
- **market VWAP and TWAP** over the order's life: traded notional over volume, and the mean of the
  mids sampled on the order's even grid (a time-weighted average);
- **participation rate**: the order's filled quantity over the market volume on its venues
  during its life (the market volume includes the order's own fills).

A number that cannot be known (no fill yet, no book at the start, no volume seen) is None.
Prices are given to 8 decimal places, slippage to 0.01 bp, the participation rate to 6 places.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from sor_daemon.domain.events import MarketSampled
from sor_daemon.domain.values import Fill
from sor_daemon.protocol.messages import Side

BASIS_POINTS = Decimal(10_000)
ZERO = Decimal(0)
PRICE_PLACES = Decimal("1e-8")
BPS_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("1e-6")


@attrs.frozen
class ExecutionQuality:
    """The execution-quality figures of one smart order (None where unknown)."""

    arrival_price: Decimal | None
    average_price: Decimal | None
    slippage_bps: Decimal | None
    market_vwap: Decimal | None
    market_twap: Decimal | None
    participation_rate: Decimal | None


def execution_quality(
    side: Side, started_at: datetime, fills: Sequence[Fill], samples: Sequence[MarketSampled]
) -> ExecutionQuality:
    """The figures for an order of ``side`` started at ``started_at``."""
    mids = [sample.mid for sample in samples if sample.mid is not None]
    arrival = mids[0] if mids else None
    filled = sum((fill.quantity for fill in fills), ZERO)
    average = sum((fill.quantity * fill.price for fill in fills), ZERO) / filled if filled else None
    during = [s for s in samples if s.start >= started_at and s.volume is not None]
    volume = sum((s.volume for s in during if s.volume is not None), ZERO)
    notional = sum((s.notional for s in during if s.notional is not None), ZERO)
    return ExecutionQuality(
        arrival_price=_round(arrival, PRICE_PLACES),
        average_price=_round(average, PRICE_PLACES),
        slippage_bps=_round(_slippage_bps(side, arrival, average), BPS_PLACES),
        market_vwap=_round(notional / volume if volume > 0 else None, PRICE_PLACES),
        market_twap=_round(sum(mids, ZERO) / len(mids) if mids else None, PRICE_PLACES),
        participation_rate=_round(filled / volume if volume > 0 else None, RATE_PLACES),
    )


def _round(value: Decimal | None, places: Decimal) -> Decimal | None:
    """``value`` to ``places``, trailing zeros dropped (None stays None)."""
    return None if value is None else value.quantize(places).normalize()


def _slippage_bps(side: Side, arrival: Decimal | None, average: Decimal | None) -> Decimal | None:
    if arrival is None or average is None or arrival <= 0:
        return None
    cost = average - arrival if side is Side.BUY else arrival - average
    return cost / arrival * BASIS_POINTS
