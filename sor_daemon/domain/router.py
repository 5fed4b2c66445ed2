"""Routing a slice: split it across the listed venues by their current books, best price first.

The router looks at every usable venue's book on the side a slice trades against (asks for a
buy, bids for a sell). The best touch across venues, widened by a tolerance in basis points, is
the worst price the slice will pay; every level at or better than it is liquidity the slice may
take. Levels are taken best price first across venues (the venue listed first wins a tie) until
the slice is covered or the acceptable liquidity runs out: a buy takes the cheapest offers first,
wherever they are.

Each venue that gets a share gets one child order: a LIMIT IMMEDIATE_OR_CANCEL at the acceptable
price on that venue's grid, sized by what it displays, rounded down to its size increment. A
share below the venue's minimum size is not sent; it goes to the other venues where they display
more, or is left for a later slice. Nothing is routed beyond displayed liquidity at acceptable
prices: what a slice cannot place now is caught up by the slices after it.

An order's limit price caps the acceptable price (a buy pays at most the lower of the two, a sell
receives at least the higher), so no child is priced beyond the limit and depth beyond it is not
counted. When the limit keeps every usable venue's book out, the routing says so
(``beyond_limit``): the slice trades nothing and the order waits for the market to come back.

A venue is not used when its book is older than the maximum age (stale), has nothing on the side
the slice needs, or is excluded by the caller (it rejected the last child sent to it).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.market import BookView, PriceLevel
from sor_daemon.protocol.messages import Side

BASIS_POINT = Decimal("0.0001")
ZERO = Decimal(0)


@attrs.frozen
class VenueBook:
    """A listed venue with its current book for the order's symbol (None when none is known)."""

    instrument: Instrument
    book: BookView | None

    @property
    def exchange(self) -> str:
        return self.instrument.exchange


@attrs.frozen
class Route:
    """One child order to send: where, how much, at what limit."""

    instrument: Instrument
    quantity: Decimal
    price: Decimal


@attrs.frozen
class Routing:
    """The routes of one slice, and why each venue that got nothing was left out.

    ``beyond_limit`` is the order's limit price when it alone kept every usable venue out (each
    one's best level is worse than the limit), else None.
    """

    routes: tuple[Route, ...]
    left_out: tuple[tuple[str, str], ...] = ()
    beyond_limit: Decimal | None = None

    @property
    def routed(self) -> Decimal:
        """The total quantity the routes carry."""
        return sum((route.quantity for route in self.routes), ZERO)

    def explain(self) -> str:
        """Why venues were left out, as one line for a log or a status info."""
        return "; ".join(f"{exchange}: {reason}" for exchange, reason in self.left_out)


@attrs.frozen
class RoutingPolicy:
    """How far from the best touch a slice may pay, and how old a book may be."""

    tolerance_bps: Decimal
    max_book_age: timedelta


def usable_venues(
    side: Side,
    venues: Sequence[VenueBook],
    now: datetime,
    max_book_age: timedelta,
    excluded: Collection[str] = (),
) -> tuple[list[VenueBook], list[tuple[str, str]]]:
    """The venues a slice of ``side`` may trade on now, and the others with the reason."""
    usable: list[VenueBook] = []
    left_out: list[tuple[str, str]] = []
    for venue in venues:
        reason = _unusable_reason(side, venue, now, max_book_age, excluded)
        if reason is None:
            usable.append(venue)
        else:
            left_out.append((venue.exchange, reason))
    return usable, left_out


def _unusable_reason(
    side: Side,
    venue: VenueBook,
    now: datetime,
    max_book_age: timedelta,
    excluded: Collection[str],
) -> str | None:
    if venue.exchange in excluded:
        return "rejected the last child order"
    book = venue.book
    if book is None:
        return "no market data yet"
    if not book.is_fresh(now, max_book_age):
        return f"market data is stale (nothing heard for over {max_book_age.total_seconds():g}s)"
    if not _levels(side, book):
        return "no bids" if side is Side.SELL else "no offers"
    return None


def route_slice(
    target: Decimal,
    side: Side,
    venues: Sequence[VenueBook],
    now: datetime,
    policy: RoutingPolicy,
    excluded: Collection[str] = (),
    limit_price: Decimal | None = None,
) -> Routing:
    """Split ``target`` across the usable ``venues``, never beyond ``limit_price`` when one is
    given (see the module docstring)."""
    usable, left_out = usable_venues(side, venues, now, policy.max_book_age, excluded)
    if not usable or target <= 0:
        return Routing((), tuple(left_out))
    limit = _acceptable_price(side, usable, policy.tolerance_bps)
    capped = False
    if limit_price is not None and not _better_or_equal(side, limit, limit_price):
        limit, capped = limit_price, True
    offers = _acceptable_levels(side, usable, limit, target)
    if capped and not offers:
        reason = f"the market is beyond the limit price {_plain(limit)}"
        left_out.extend((venue.exchange, reason) for venue in usable)
        return Routing((), tuple(left_out), beyond_limit=limit)
    nothing_displayed = (
        f"nothing displayed within the limit price {_plain(limit)}"
        if capped
        else "nothing displayed at acceptable prices"
    )
    shares = _allocate(target, offers, usable)
    routes = []
    for venue in usable:
        quantity = shares.get(venue.exchange, ZERO)
        if quantity <= 0:
            reason = (
                nothing_displayed
                if not any(v is venue for v, _ in offers)
                else "its share was below the minimum size"
            )
            left_out.append((venue.exchange, reason))
            continue
        routes.append(Route(venue.instrument, quantity, _on_grid(side, limit, venue.instrument)))
    return Routing(tuple(routes), tuple(left_out))


def _plain(price: Decimal) -> str:
    """A price for a sentence: ``100.5``, never ``100.50`` or ``1.005E+2``."""
    return format(price.normalize(), "f")


def _levels(side: Side, book: BookView) -> tuple[PriceLevel, ...]:
    """The levels a slice of ``side`` trades against."""
    return book.asks if side is Side.BUY else book.bids


def _better_or_equal(side: Side, price: Decimal, limit: Decimal) -> bool:
    return price <= limit if side is Side.BUY else price >= limit


def _acceptable_price(side: Side, venues: Sequence[VenueBook], tolerance_bps: Decimal) -> Decimal:
    """The best touch across venues widened by the tolerance: the worst price a slice pays."""
    touches = [_levels(side, venue.book)[0].price for venue in venues if venue.book]
    if side is Side.BUY:
        return min(touches) * (1 + tolerance_bps * BASIS_POINT)
    return max(touches) * (1 - tolerance_bps * BASIS_POINT)


def _acceptable_levels(
    side: Side, venues: Sequence[VenueBook], limit: Decimal, target: Decimal
) -> list[tuple[VenueBook, PriceLevel]]:
    """The levels at an acceptable price that can take part in a slice of ``target``, best
    price first, the first listed venue on a tie.

    A book lists its levels best first, so a venue's levels are read only up to the first one
    beyond ``limit``, and only until the venue alone could cover the slice: once its levels
    so far, each less one size increment, add up to ``target``, ``_greedy`` can take nothing
    from the next. (A level either leaves less than an increment of the slice to place, and
    the venue's share, on its grid, grows no more; or it adds its size less what rounding
    down loses, under an increment.) A slice of a small order on a deep book looks at a level
    or two, not twenty: every slice reads them, and twenty levels took 11 µs. Prices are
    compared inline, not through a function a level. The sort is stable: on a tie, the
    venues' order and each book's own stay."""
    buying = side is Side.BUY
    offers = []
    for venue in venues:
        if venue.book is None:
            continue
        increment = venue.instrument.size_increment
        covered = ZERO
        for level in venue.book.asks if buying else venue.book.bids:
            if level.price > limit if buying else level.price < limit:
                break
            if level.size > 0:
                offers.append((venue, level))
                covered += level.size - increment
                if covered >= target:
                    break
    if len(venues) > 1:
        offers.sort(key=_offer_price, reverse=not buying)
    return offers


def _offer_price(offer: tuple[VenueBook, PriceLevel]) -> Decimal:
    return offer[1].price


def _allocate(
    target: Decimal, offers: list[tuple[VenueBook, PriceLevel]], venues: Sequence[VenueBook]
) -> dict[str, Decimal]:
    """Each venue's share: greedy by price, on the venue's size grid, at least its minimum.

    A venue whose share rounds below its minimum size is dropped and the greedy pass runs again
    without it, so its share moves to the next best liquidity instead of being lost.
    """
    while True:
        shares = _greedy(target, offers)
        too_small = {
            venue.exchange
            for venue in venues
            if venue.exchange in shares and shares[venue.exchange] < venue.instrument.min_size
        }
        if not too_small:
            return shares
        offers = [(venue, level) for venue, level in offers if venue.exchange not in too_small]


def _greedy(target: Decimal, offers: list[tuple[VenueBook, PriceLevel]]) -> dict[str, Decimal]:
    """Take levels best first; each venue's running share is kept on its size grid."""
    shares: dict[str, Decimal] = {}
    left = target
    for venue, level in offers:
        if left <= 0:
            break
        instrument = venue.instrument
        current = shares.get(venue.exchange, ZERO)
        share = instrument.round_size_down(current + min(level.size, left))
        if share > current:
            shares[venue.exchange] = share
            left -= share - current
    return {exchange: share for exchange, share in shares.items() if share > 0}


def _on_grid(side: Side, limit: Decimal, instrument: Instrument) -> Decimal:
    """The acceptable price on the venue's price grid, never beyond it."""
    if side is Side.BUY:
        return instrument.round_price_down(limit)
    return instrument.round_price_up(limit)
