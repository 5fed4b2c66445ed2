"""VWAP as the seed's pseudocode has it: each slice follows the volume the market just traded.

Slice *k* trades ``min(intervalMarketVolume * safetyThreshold, remaining / slicesLeft)``, where
the interval volume is what the order's venues traded in the interval before the slice came due.
The seed writes ``totalAmount`` for the second term; the amount still to trade is meant, which is
also what keeps the order from ever overfilling. The safety threshold caps the order's share of
the market (its participation); a busy interval lets the slice grow up to its even share, a quiet
one shrinks it.

How it finishes: a market too quiet to absorb the whole amount leaves a remainder. With
``complete_at_end`` the last slice trades all that remains, whatever the volume; without it the
order ends ``Expired`` and its status info says how much was left.
"""

from __future__ import annotations

from decimal import Decimal

from sor_daemon.domain.twap import twap_slice_target

DEFAULT_SAFETY_THRESHOLD = Decimal("0.1")


def vwap_slice_target(
    remaining: Decimal,
    slices_left: int,
    interval_volume: Decimal,
    safety_threshold: Decimal,
    *,
    complete_at_end: bool,
) -> Decimal:
    """How much this slice should trade; never more than ``remaining``."""
    even_share = twap_slice_target(remaining, slices_left)
    if even_share <= 0:
        return even_share
    if slices_left <= 1 and complete_at_end:
        return remaining
    return max(min(interval_volume * safety_threshold, even_share), Decimal(0))
