"""Splitting a slice across venues by their books: best price first, depth, grids, minimums,
stale and rejecting venues left out. No I/O."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.market import BookView, PriceLevel
from sor_daemon.domain.router import RoutingPolicy, VenueBook, route_slice
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import ChildStatus
from sor_daemon.protocol.messages import Side
from tests.support.orders import DERIBIT_BTC, START, TABLE, fill_report, new_order, plan

POLICY = RoutingPolicy(tolerance_bps=Decimal(10), max_book_age=timedelta(seconds=10))


def instrument(exchange: str, symbol_type: str = "perpetual") -> Instrument:
    found = TABLE.find(exchange, "BTC-USD", symbol_type)
    assert found is not None
    return found


BINANCE_BTC = instrument("BINANCE")
COINBASE_BTC = instrument("COINBASE", "spot")
KRAKEN_BTC = instrument("KRAKEN", "spot")


def venue(
    target: Instrument,
    asks: list[tuple[str, str]] = (),  # type: ignore[assignment]
    bids: list[tuple[str, str]] = (),  # type: ignore[assignment]
    age: float = 0,
) -> VenueBook:
    """A venue whose book has these (price, size) levels, heard ``age`` seconds before START."""

    def levels(pairs: list[tuple[str, str]]) -> tuple[PriceLevel, ...]:
        return tuple(PriceLevel(Decimal(price), Decimal(size)) for price, size in pairs)

    book = BookView(
        target.symbol_id_coinapi, levels(bids), levels(asks), START - timedelta(seconds=age)
    )
    return VenueBook(target, book)


def shares(target: str, side: Side, venues: list[VenueBook], **kwargs: object) -> dict[str, str]:
    routing = route_slice(Decimal(target), side, venues, START, POLICY, **kwargs)  # type: ignore[arg-type]
    return {r.instrument.exchange: f"{r.quantity.normalize():f}" for r in routing.routes}


def test_a_buy_takes_the_cheapest_offers_first_across_venues() -> None:
    binance = venue(BINANCE_BTC, asks=[("60000", "1"), ("60001", "2")])
    deribit = venue(DERIBIT_BTC, asks=[("60000.5", "3"), ("60002", "5")])
    assert shares("4", Side.BUY, [binance, deribit]) == {"BINANCE": "1", "DERIBIT": "3"}
    assert shares("5", Side.BUY, [binance, deribit]) == {"BINANCE": "2", "DERIBIT": "3"}
    assert shares("0.5", Side.BUY, [deribit, binance]) == {"BINANCE": "0.5"}


def test_a_sell_takes_the_richest_bids_first() -> None:
    binance = venue(BINANCE_BTC, bids=[("59990", "1"), ("59980", "4")])
    deribit = venue(DERIBIT_BTC, bids=[("59995", "2"), ("59985", "2")])
    assert shares("4", Side.SELL, [binance, deribit]) == {"BINANCE": "1", "DERIBIT": "3"}


def test_children_are_ioc_limits_at_the_best_touch_widened_on_each_grid() -> None:
    binance = venue(BINANCE_BTC, asks=[("60000", "1")])
    deribit = venue(DERIBIT_BTC, asks=[("60000.5", "3")])
    routing = route_slice(Decimal(4), Side.BUY, [binance, deribit], START, POLICY)
    # 60000 * 1.001 = 60060: the worst price either child may pay, on each venue's grid
    assert [(r.instrument.exchange, r.price) for r in routing.routes] == [
        ("BINANCE", Decimal("60060.0")),
        ("DERIBIT", Decimal("60060.0")),
    ]
    selling = venue(COINBASE_BTC, bids=[("60000.01", "1")])
    [route] = route_slice(Decimal(1), Side.SELL, [selling], START, POLICY).routes
    assert route.price == Decimal("59940.01")  # 60000.01 * 0.999 = 59940.00999, rounded up


def test_nothing_beyond_the_displayed_depth_at_acceptable_prices() -> None:
    tight = RoutingPolicy(tolerance_bps=Decimal(1), max_book_age=timedelta(seconds=10))
    binance = venue(BINANCE_BTC, asks=[("60000", "1"), ("60005", "2"), ("60010", "50")])
    routing = route_slice(Decimal(10), Side.BUY, [binance], START, tight)
    [route] = routing.routes
    assert route.quantity == Decimal(3)  # 60010 is beyond 60000 * 1.0001 = 60006
    assert routing.routed == Decimal(3)


def test_shares_are_rounded_down_to_each_venues_size_increment() -> None:
    deribit = venue(DERIBIT_BTC, asks=[("60000", "0.25"), ("60001", "0.37")])
    coinbase = venue(COINBASE_BTC, asks=[("60002", "0.123456789")])
    got = shares("1", Side.BUY, [deribit, coinbase])
    assert got == {"DERIBIT": "0.5", "COINBASE": "0.12345678"}


def test_a_share_below_the_minimum_size_moves_to_the_next_best_venue() -> None:
    kraken = venue(KRAKEN_BTC, asks=[("59999", "0.00005")])
    coinbase = venue(COINBASE_BTC, asks=[("60000", "2")])
    routing = route_slice(Decimal(1), Side.BUY, [kraken, coinbase], START, POLICY)
    assert [(r.instrument.exchange, r.quantity) for r in routing.routes] == [
        ("COINBASE", Decimal(1))
    ]
    assert routing.left_out == (("KRAKEN", "its share was below the minimum size"),)


def every_level_greedy(target: Decimal, venues: list[VenueBook]) -> dict[str, Decimal]:
    """The allocation the module docstring describes, worked out the plain way over every
    ask within the tolerance of every venue: the oracle for the router, which reads fewer."""
    limit = min(v.book.asks[0].price for v in venues if v.book) * (1 + POLICY.tolerance_bps / 10000)
    offers = sorted(
        ((v, level) for v in venues if v.book for level in v.book.asks if level.price <= limit),
        key=lambda offer: offer[1].price,
    )
    active = {v.exchange for v in venues}
    while True:
        shares: dict[str, Decimal] = {}
        left = target
        for v, level in offers:
            if v.exchange not in active or left <= 0:
                continue
            increment = v.instrument.size_increment
            current = shares.get(v.exchange, Decimal(0))
            grown = current + min(level.size, left)
            share = (grown / increment).to_integral_value(ROUND_FLOOR) * increment
            if share > current:
                shares[v.exchange], left = share, left - (share - current)
        small = {
            v.exchange for v in venues if 0 < shares.get(v.exchange, 0) < v.instrument.min_size
        }
        if not small:
            return {exchange: share for exchange, share in shares.items() if share > 0}
        active -= small


def test_reading_only_the_levels_that_can_count_routes_as_reading_them_all() -> None:
    # Levels of every size around each venue's increment, on deep books: the router stops
    # reading a venue once it alone could cover the slice, and must share it out the same.
    rng = random.Random(8)
    for _ in range(400):
        venues = []
        for target_instrument in rng.sample([DERIBIT_BTC, BINANCE_BTC, COINBASE_BTC], 2):
            increment = target_instrument.size_increment
            asks = [
                (f"{60000 + rng.randint(0, 40) / 2}", f"{increment * rng.randint(1, 40) / 8:f}")
                for _ in range(rng.randint(1, 25))
            ]
            asks.sort(key=lambda level: Decimal(level[0]))
            venues.append(venue(target_instrument, asks=asks))
        target = Decimal(rng.randint(1, 60)) / 20
        routing = route_slice(target, Side.BUY, venues, START, POLICY)
        routed = {route.instrument.exchange: route.quantity for route in routing.routes}
        assert routed == every_level_greedy(target, venues), (target, venues)


def test_a_slice_smaller_than_every_minimum_routes_nothing() -> None:
    deribit = venue(DERIBIT_BTC, asks=[("60000", "5")])
    assert route_slice(Decimal("0.05"), Side.BUY, [deribit], START, POLICY).routes == ()


def test_stale_empty_and_unknown_books_are_left_out() -> None:
    stale = venue(BINANCE_BTC, asks=[("59000", "10")], age=11)
    fresh = venue(DERIBIT_BTC, asks=[("60000", "10")], age=9)
    unknown = VenueBook(COINBASE_BTC, None)
    one_sided = venue(KRAKEN_BTC, bids=[("59999", "1")])
    routing = route_slice(Decimal(1), Side.BUY, [stale, fresh, unknown, one_sided], START, POLICY)
    assert [r.instrument.exchange for r in routing.routes] == ["DERIBIT"]
    assert dict(routing.left_out) == {
        "BINANCE": "market data is stale (nothing heard for over 10s)",
        "COINBASE": "no market data yet",
        "KRAKEN": "no offers",
    }


def test_an_excluded_venue_gets_nothing_even_at_the_best_price() -> None:
    binance = venue(BINANCE_BTC, asks=[("59000", "10")])
    deribit = venue(DERIBIT_BTC, asks=[("59010", "10")])
    assert shares("1", Side.BUY, [binance, deribit], excluded={"BINANCE"}) == {"DERIBIT": "1"}


def test_a_price_tie_goes_to_the_venue_listed_first() -> None:
    binance = venue(BINANCE_BTC, asks=[("60000", "1")])
    deribit = venue(DERIBIT_BTC, asks=[("60000", "1")])
    assert shares("1", Side.BUY, [deribit, binance]) == {"DERIBIT": "1"}
    assert shares("1", Side.BUY, [binance, deribit]) == {"BINANCE": "1"}
    binance = venue(BINANCE_BTC, bids=[("60000", "1"), ("59990", "5")])
    deribit = venue(DERIBIT_BTC, bids=[("60000", "1"), ("59990", "5")])
    assert shares("1", Side.SELL, [deribit, binance]) == {"DERIBIT": "1"}
    assert shares("2", Side.SELL, [binance, deribit]) == {"BINANCE": "1", "DERIBIT": "1"}
    assert shares("3", Side.SELL, [binance, deribit]) == {"BINANCE": "2", "DERIBIT": "1"}


def two_venue_order() -> SmartOrder:
    return new_order(exchanges=("BINANCE", "DERIBIT"), amount="10", duration="1SEC")


def books(at_second: int) -> list[VenueBook]:
    """BINANCE offers 3 at 60000, DERIBIT 9 at 60001, both heard at START + ``at_second``."""
    at = START + timedelta(seconds=at_second)
    return [
        VenueBook(BINANCE_BTC, offers(BINANCE_BTC, at, "60000", "3")),
        VenueBook(DERIBIT_BTC, offers(DERIBIT_BTC, at, "60001", "9")),
    ]


def offers(target: Instrument, at: datetime, price: str, size: str) -> BookView:
    level = PriceLevel(Decimal(price), Decimal(size))
    return BookView(target.symbol_id_coinapi, (), (level,), at)


def test_a_slice_becomes_one_child_per_venue_with_its_own_id() -> None:
    order = two_venue_order()
    children = plan(order, START, books(0))
    assert isinstance(children, list)
    assert [(c.child_id, c.exchange, c.quantity, c.slice_index) for c in children] == [
        ("order-1-1", "BINANCE", Decimal("3.0"), 0),
        ("order-1-2", "DERIBIT", Decimal("2.0"), 0),
    ]


def test_a_venue_that_rejected_is_skipped_for_the_next_slice_only() -> None:
    order = two_venue_order()
    first = plan(order, START, books(0))
    assert isinstance(first, list)
    for child in first:
        order.apply(child)
        status = ChildStatus.REJECTED if child.exchange == "BINANCE" else None
        report = fill_report(child, "0" if status else None, status=status)
        order.apply(order.interpret(report, START))  # type: ignore[arg-type]
    second = plan(order, START + timedelta(seconds=1), books(1))
    assert isinstance(second, list)
    assert [c.exchange for c in second] == ["DERIBIT"]
    assert second[0].quantity == Decimal(8)  # 10 less the 2 DERIBIT filled, all on DERIBIT
    order.apply(second[0])
    order.apply(order.interpret(fill_report(second[0], "1"), START))  # type: ignore[arg-type]
    third = plan(order, START + timedelta(seconds=2), books(2))
    assert isinstance(third, list)
    assert [c.exchange for c in third] == ["BINANCE", "DERIBIT"], "rejected a slice ago: back"


def test_a_buy_limit_caps_the_price_and_leaves_the_depth_beyond_it() -> None:
    binance = venue(BINANCE_BTC, asks=[("60000", "1"), ("60001", "2"), ("60003", "9")])
    deribit = venue(DERIBIT_BTC, asks=[("60000.5", "3"), ("60002", "5")])
    # the tolerance alone would accept up to 60060: the limit 60001.7 takes only 6 of the 20
    routing = route_slice(
        Decimal(10), Side.BUY, [binance, deribit], START, POLICY, limit_price=Decimal("60001.7")
    )
    prices = {r.instrument.exchange: r.price for r in routing.routes}
    quantities = {r.instrument.exchange: r.quantity for r in routing.routes}
    assert quantities == {"BINANCE": Decimal(3), "DERIBIT": Decimal(3)}
    assert prices == {"BINANCE": Decimal("60001.7"), "DERIBIT": Decimal("60001.5")}
    assert routing.beyond_limit is None


def test_a_sell_limit_caps_the_price_and_leaves_the_depth_beyond_it() -> None:
    binance = venue(BINANCE_BTC, bids=[("60000", "1"), ("59999", "2")])
    deribit = venue(DERIBIT_BTC, bids=[("60000.5", "3"), ("59998", "5")])
    routing = route_slice(
        Decimal(10), Side.SELL, [binance, deribit], START, POLICY, limit_price=Decimal("59999.2")
    )
    prices = {r.instrument.exchange: r.price for r in routing.routes}
    quantities = {r.instrument.exchange: r.quantity for r in routing.routes}
    assert quantities == {"BINANCE": Decimal(1), "DERIBIT": Decimal(3)}
    assert prices == {"BINANCE": Decimal("59999.2"), "DERIBIT": Decimal("59999.5")}


def test_a_limit_looser_than_the_tolerance_changes_nothing() -> None:
    deribit = venue(DERIBIT_BTC, asks=[("60000", "1"), ("60100", "5")])
    loose = route_slice(Decimal(3), Side.BUY, [deribit], START, POLICY, limit_price=Decimal(70000))
    assert loose == route_slice(Decimal(3), Side.BUY, [deribit], START, POLICY)
    assert [r.price for r in loose.routes] == [Decimal(60060)]


def test_a_venue_with_nothing_within_the_limit_is_left_out_and_says_so() -> None:
    binance = venue(BINANCE_BTC, asks=[("60000", "1")])
    deribit = venue(DERIBIT_BTC, asks=[("60005", "3")])
    routing = route_slice(
        Decimal(2), Side.BUY, [binance, deribit], START, POLICY, limit_price=Decimal(60001)
    )
    assert [r.instrument.exchange for r in routing.routes] == ["BINANCE"]
    assert routing.left_out == (("DERIBIT", "nothing displayed within the limit price 60001"),)
    assert routing.beyond_limit is None


def test_a_limit_that_keeps_every_venue_out_routes_nothing_and_says_why() -> None:
    binance = venue(BINANCE_BTC, asks=[("60000", "1")])
    deribit = venue(DERIBIT_BTC, asks=[("60000.5", "3")])
    stale = venue(KRAKEN_BTC, asks=[("50000", "9")], age=60)
    routing = route_slice(
        Decimal(2),
        Side.BUY,
        [stale, binance, deribit],
        START,
        POLICY,
        limit_price=Decimal("59999.50"),
    )
    assert routing.routes == ()
    assert routing.beyond_limit == Decimal("59999.50")
    assert routing.left_out[1:] == (
        ("BINANCE", "the market is beyond the limit price 59999.5"),
        ("DERIBIT", "the market is beyond the limit price 59999.5"),
    )
    assert routing.left_out[0][0] == "KRAKEN"  # stale: not the limit's doing
