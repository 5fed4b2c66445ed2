"""Execution quality: how well a smart order traded against the market it traded in.

Computed from the order's own fills and the market samples its runner journaled at every slice
and once more when the order ended (``MarketSampled``), so the numbers survive a restart and
can be recomputed from the journal. They are kept as running sums (``QualityTally``), added to
as the order's events apply.

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


@attrs.define
class QualityTally:
    """An order's quality figures kept as running sums, updated with each fill and sample.

    Reading the figures costs the same at the six-hundredth slice as at the first, and never
    walks the order's fills and samples: a thousand orders ending together each read theirs once
    more, on the same thread that sends everyone's next slices.
    """

    started_at: datetime
    arrival: Decimal | None = None
    filled: Decimal = ZERO
    filled_notional: Decimal = ZERO
    mids_total: Decimal = ZERO
    mids_count: int = 0
    market_volume: Decimal = ZERO
    market_notional: Decimal = ZERO

    def add_fill(self, fill: Fill) -> None:
        """Count one of the order's own fills."""
        self.filled += fill.quantity
        self.filled_notional += fill.quantity * fill.price

    def add_sample(self, sample: MarketSampled) -> None:
        """Count one market sample: its mid, and its volume if it lies in the order's life."""
        if sample.mid is not None:
            if self.arrival is None:
                self.arrival = sample.mid
            self.mids_total += sample.mid
            self.mids_count += 1
        if sample.start >= self.started_at and sample.volume is not None:
            self.market_volume += sample.volume
            if sample.notional is not None:
                self.market_notional += sample.notional

    def figures(self, side: Side) -> ExecutionQuality:
        """The figures for an order of ``side``, as they stand."""
        filled, volume = self.filled, self.market_volume
        average = self.filled_notional / filled if filled else None
        mids = self.mids_count
        return ExecutionQuality(
            arrival_price=_round(self.arrival, PRICE_PLACES),
            average_price=_round(average, PRICE_PLACES),
            slippage_bps=_round(_slippage_bps(side, self.arrival, average), BPS_PLACES),
            market_vwap=_round(self.market_notional / volume if volume > 0 else None, PRICE_PLACES),
            market_twap=_round(self.mids_total / mids if mids else None, PRICE_PLACES),
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
