"""TWAP as the seed's pseudocode has it: equal slices over ``duration / interval + 1`` iterations.

Each slice trades what is left divided by the slices left, so a slice that an IOC child only
partly filled is caught up by the ones after it, and the last slice takes all that remains. The
target is a plain quantity; the router rounds it to each venue's increments.
"""

from __future__ import annotations

from decimal import Decimal


def twap_slice_target(remaining: Decimal, slices_left: int) -> Decimal:
    """How much this slice should trade: ``remaining / slices_left``, never more than remaining."""
    if remaining <= 0:
        return Decimal(0)
    if slices_left <= 1:
        return remaining
    return min(remaining / slices_left, remaining)
