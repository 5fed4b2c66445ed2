"""Routing a slice: which venue gets it, how much, and at what limit price.

Children are LIMIT IMMEDIATE_OR_CANCEL orders priced at the touch (the best ask for a buy, the
best bid for a sell) widened by a tolerance in basis points, so they take what is there now and
never rest. Sizes are rounded down to the venue's size increment; a size below the venue's
minimum is not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.values import Quote
from sor_daemon.protocol.messages import Side

BASIS_POINT = Decimal("0.0001")


@attrs.frozen
class VenueQuote:
    """A venue that could take the slice, with its current top of book."""

    instrument: Instrument
    quote: Quote


@attrs.frozen
class Route:
    """One child order to send: where, how much, at what limit."""

    instrument: Instrument
    quantity: Decimal
    price: Decimal


def marketable_limit(
    side: Side, quote: Quote, tolerance_bps: Decimal, instrument: Instrument
) -> Decimal:
    """The touch widened by ``tolerance_bps``, on the venue's price grid, never inside the touch."""
    if side is Side.BUY:
        widened = quote.ask * (1 + tolerance_bps * BASIS_POINT)
        return max(instrument.round_price_down(widened), instrument.round_price_up(quote.ask))
    widened = quote.bid * (1 - tolerance_bps * BASIS_POINT)
    return min(instrument.round_price_up(widened), instrument.round_price_down(quote.bid))


def _touch(side: Side, quote: Quote) -> Decimal:
    return quote.ask if side is Side.BUY else quote.bid


def route_slice(
    target: Decimal, side: Side, venues: Sequence[VenueQuote], tolerance_bps: Decimal
) -> list[Route]:
    """Send the slice to the venue with the best touch (cheapest ask for a buy, richest bid for a
    sell; the first listed wins a tie). Empty when no venue can take a child of that size."""
    tradable = [v for v in venues if _touch(side, v.quote) > 0]
    if not tradable:
        return []
    sign = 1 if side is Side.BUY else -1
    best = min(tradable, key=lambda v: sign * _touch(side, v.quote))
    quantity = best.instrument.round_size_down(target)
    if quantity < best.instrument.min_size:
        return []
    price = marketable_limit(side, best.quote, tolerance_bps, best.instrument)
    return [Route(best.instrument, quantity, price)]
