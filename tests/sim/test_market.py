"""The simulated market: seeded walks, books on the grids, lazy steps, taken liquidity."""

from __future__ import annotations

from decimal import Decimal

from sor_daemon.sim.market import Level, Market
from sor_daemon.sim.matching import sweep
from sor_daemon.sim.orders import Side
from sor_daemon.sim.settings import default_instruments, default_market

from .conftest import START

INSTRUMENTS = default_instruments()
PARAMETERS = default_market()
STEP = PARAMETERS.step
BTC_PERP = INSTRUMENTS.by_coinapi_id("DERIBIT_PERP_BTC_USD")
BTC_SPOT = INSTRUMENTS.by_coinapi_id("COINBASE_SPOT_BTC_USD")


def market(seed: int = 7) -> Market:
    return Market(INSTRUMENTS, PARAMETERS, seed, START)


def test_the_same_seed_gives_the_same_books_at_every_step() -> None:
    first, second = market(7), market(7)
    for step in range(1, 40):
        now = START + step * STEP
        first.advance(now)
        second.advance(now)
        for instrument in INSTRUMENTS:
            assert first.book(instrument) == second.book(instrument)


def test_another_seed_gives_other_prices() -> None:
    first, second = market(7), market(8)
    first.advance(START + 20 * STEP)
    second.advance(START + 20 * STEP)
    assert first.underlying_price("BTC") != second.underlying_price("BTC")
    assert first.book(BTC_PERP) != second.book(BTC_PERP)


def test_books_lie_on_the_instruments_grids_with_ten_levels_a_side() -> None:
    simulated = market()
    for step in range(0, 60, 7):
        simulated.advance(START + step * STEP)
        for instrument in INSTRUMENTS:
            book = simulated.book(instrument)
            assert len(book.bids) == len(book.asks) == PARAMETERS.levels
            assert book.bids[0].price < book.asks[0].price
            for levels, ordered in ((book.bids, sorted), (book.asks, None)):
                prices = [level.price for level in levels]
                expected = sorted(prices, reverse=ordered is sorted)
                assert prices == expected and len(set(prices)) == len(prices)
                for level in levels:
                    assert instrument.is_price_multiple(level.price)
                    assert instrument.is_size_multiple(level.size)
                    assert level.size >= instrument.min_size


def test_sizes_grow_with_depth() -> None:
    book = market().book(BTC_PERP)
    for levels in (book.bids, book.asks):
        top = sum(level.size for level in levels[:3])
        deep = sum(level.size for level in levels[-3:])
        assert deep > 2 * top


def test_a_perpetual_and_a_spot_of_one_base_move_together() -> None:
    simulated = market()
    ratios = []
    for step in range(0, 300, 10):
        simulated.advance(START + step * STEP)
        ratios.append(simulated.book(BTC_PERP).mid / simulated.book(BTC_SPOT).mid)
    assert max(ratios) - min(ratios) < Decimal("0.0005")
    prices = [simulated.underlying_price("BTC")]
    simulated.advance(START + 400 * STEP)
    prices.append(simulated.underlying_price("BTC"))
    assert prices[0] != prices[1]


def test_venues_quote_one_symbol_differently() -> None:
    simulated = market()
    one_per_venue = {i.exchange: i for i in INSTRUMENTS if i.base == "BTC"}.values()
    books = [simulated.book(instrument) for instrument in one_per_venue]
    assert len({(book.bids[0].price, book.asks[0].price) for book in books}) == len(books)
    assert len({book.asks[-1].price - book.asks[0].price for book in books}) == len(books)
    assert len({sum(level.size for level in book.asks) for book in books}) == len(books)


def test_steps_follow_wall_time_lazily_and_a_long_pause_is_capped() -> None:
    simulated = market()
    assert simulated.advance(START + STEP / 2) == 0
    assert simulated.advance(START + STEP) == 1
    assert simulated.advance(START + 3 * STEP) == 2
    day_later = START + 432_000 * STEP
    assert simulated.advance(day_later) == PARAMETERS.max_catch_up_steps
    assert simulated.advance(day_later + STEP) == 1
    assert simulated.step_index == 3 + PARAMETERS.max_catch_up_steps + 1


def test_taken_liquidity_stays_taken_until_the_next_step() -> None:
    simulated = market()
    best = simulated.book(BTC_PERP).asks[0]
    simulated.take(BTC_PERP, Side.BUY, best.price, best.size)
    assert simulated.book(BTC_PERP).asks[0].price > best.price
    simulated.advance(START + STEP / 2)
    assert simulated.book(BTC_PERP).asks[0].price > best.price
    simulated.advance(START + STEP)
    regenerated = simulated.book(BTC_PERP)
    assert regenerated == simulated.generated_book(BTC_PERP)


def test_an_order_trades_against_its_opposite_side_less_what_was_taken() -> None:
    simulated = market()
    asks = simulated.generated_book(BTC_PERP).asks
    simulated.take(BTC_PERP, Side.BUY, asks[0].price, asks[0].size)
    simulated.take(BTC_PERP, Side.BUY, asks[1].price, asks[1].size / 4)
    simulated.take(BTC_PERP, Side.SELL, simulated.generated_book(BTC_PERP).bids[0].price, 1)
    for side in (Side.BUY, Side.SELL):
        assert simulated.levels_against(BTC_PERP, side) == simulated.book(BTC_PERP).against(side)
    assert simulated.levels_against(BTC_PERP, Side.BUY) == (
        Level(asks[1].price, asks[1].size * 3 / 4),
        *asks[2:],
    )


def test_splitting_a_large_slice_across_two_venues_beats_the_worse_venue_alone() -> None:
    simulated = market(1)
    pairs = (
        ("DERIBIT_PERP_BTC_USD", "BINANCEFTSC_PERP_BTC_USD"),
        ("COINBASE_SPOT_BTC_USD", "KRAKEN_SPOT_BTC_USD"),
    )
    for first, second in pairs:
        books = [simulated.book(INSTRUMENTS.by_coinapi_id(symbol)) for symbol in (first, second)]
        for side in (Side.BUY, Side.SELL):
            alone = [average_price(book.against(side), side, Decimal(8)) for book in books]
            merged = sorted(
                books[0].against(side) + books[1].against(side),
                key=lambda level: level.price,
                reverse=side is Side.SELL,
            )
            split = average_price(tuple(merged), side, Decimal(8))
            worse = max(alone) if side is Side.BUY else min(alone)
            gain_bps = abs(worse - split) / split * 10_000
            assert gain_bps > Decimal("0.5"), (first, second, side)


def average_price(levels: tuple[Level, ...], side: Side, quantity: Decimal) -> Decimal:
    """What sweeping ``quantity`` through ``levels`` (best first) costs on average."""
    taken = sweep(levels, side, Decimal(10**9) if side is Side.BUY else Decimal(0), quantity)
    filled = sum(level.size for level in taken)
    assert filled == quantity
    return sum(level.price * level.size for level in taken) / filled
