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

from datetime import datetime
from decimal import Decimal

import attrs

from sor_daemon.domain.events import MarketSampled
from sor_daemon.domain.kept import KeptValues
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
    side: Side,
    started_at: datetime,
    filled: Decimal,
    filled_notional: Decimal,
    samples: KeptValues[MarketSampled],
) -> ExecutionQuality:
    """The figures for an order of ``side`` started at ``started_at`` that has ``filled`` for
    ``filled_notional`` (quantity times price over its fills, which the order sums as they
    come), read with the columns of its kept samples.

    A thousand orders ending together each compute theirs on the thread that sends everyone's
    next slices: summing a 600-slice order's fills here made its end cost grow with its life,
    and the schedule benchmark's last slice late."""
    mids = [mid for mid in samples.column("mid") if mid is not None]
    arrival = mids[0] if mids else None
    average = filled_notional / filled if filled else None
    volume = notional = ZERO
    columns = (samples.column(name) for name in ("start", "volume", "notional"))
    for start, sample_volume, sample_notional in zip(*columns, strict=True):
        if start >= started_at and sample_volume is not None:
            volume += sample_volume
            notional += ZERO if sample_notional is None else sample_notional
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
