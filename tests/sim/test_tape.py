"""The trade tape without sockets: seeded background trades, the volume profile, own fills."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal as D

import attrs
import pytest

from sor_daemon.data import read_text
from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.market import Book, Level
from sor_daemon.sim.orders import ExecType, ExecutionReport, Side
from sor_daemon.sim.profile import VolumeProfile
from sor_daemon.sim.settings import (
    MarketParameters,
    SimulatorConfigError,
    default_instruments,
    default_market,
)
from sor_daemon.sim.tape import Tape, Trade, epoch_second, poisson

from .conftest import START
from .test_exchange import new_order

INSTRUMENTS = default_instruments()
MARKET = default_market()
STEP = MARKET.step
BTC_PERP = "DERIBIT_PERP_BTC_USD"
BOOK = Book(bids=(Level(D("99.5"), D(1)),), asks=(Level(D("100.5"), D(1)),))


def exchange(seed: int = 7, market: MarketParameters = MARKET) -> SimulatedExchange:
    return SimulatedExchange(INSTRUMENTS, market, seed=seed, start=START, run_id="T")


def trades_over(venue: SimulatedExchange, steps: int) -> dict[str, list[Trade]]:
    for step in range(1, steps + 1):
        venue.advance(START + step * STEP)
    return venue.feed_update(()).trades


def with_tape(**changes: object) -> MarketParameters:
    return attrs.evolve(MARKET, tape=attrs.evolve(MARKET.tape, **changes))


def test_the_same_seed_prints_the_same_tape_and_another_seed_another() -> None:
    first, second = trades_over(exchange(7), 50), trades_over(exchange(7), 50)
    other = trades_over(exchange(8), 50)
    assert first == second
    assert first[BTC_PERP] != other[BTC_PERP]
    assert exchange(7).buckets(BTC_PERP) == exchange(7).buckets(BTC_PERP)


def test_background_trades_lift_the_ask_or_hit_the_bid_on_the_grids() -> None:
    venue = exchange()
    for step in range(1, 30):
        venue.advance(START + step * STEP)
        book = venue.book(BTC_PERP)
        trades = venue.feed_update(()).trades.get(BTC_PERP, [])
        for trade in trades:
            touch = book.asks[0] if trade.aggressor is Side.BUY else book.bids[0]
            assert trade.price == touch.price, trade
            assert trade.size >= D("0.1") and trade.size % D("0.1") == 0, trade
            assert START + (step - 1) * STEP <= trade.time <= START + step * STEP, trade


def test_every_symbol_prints_with_unique_ids_in_time_order() -> None:
    venue = exchange()
    for symbol_id, trades in trades_over(venue, 100).items():
        assert len({trade.trade_id for trade in trades}) == len(trades), symbol_id
        assert [trade.time for trade in trades] == sorted(trade.time for trade in trades)
        assert {trade.aggressor for trade in trades} == {Side.BUY, Side.SELL}, symbol_id


def test_venue_shares_scale_the_trade_count() -> None:
    trades = trades_over(exchange(), 600)
    binance, deribit, kraken = (
        len(trades[symbol])
        for symbol in ("BINANCEFTSC_PERP_BTC_USD", BTC_PERP, "KRAKEN_SPOT_BTC_USD")
    )
    assert 1.2 < binance / deribit < 1.8  # volume shares 1.5 and 1
    assert 2.0 < deribit / kraken < 3.2  # volume shares 1 and 0.4


def test_the_profile_makes_busy_and_quiet_stretches_as_configured() -> None:
    period = timedelta(seconds=2)
    parameters = attrs.evolve(
        MARKET,
        tape=attrs.evolve(MARKET.tape, profile=(D(1), D(5)), profile_period=period),
    )
    tape = Tape(INSTRUMENTS, parameters, seed=3, run_id="P")
    btc = INSTRUMENTS.by_coinapi_id(BTC_PERP)
    for step in range(4000):
        start = START + step * STEP
        tape.print_background(btc, BOOK, step, start, start + STEP)
    trades = tape.take_printed()[BTC_PERP]
    profile = VolumeProfile((D(1), D(5)), period)
    quiet = sum(1 for trade in trades if profile.factor(trade.time) < 1)
    busy = len(trades) - quiet
    assert 4.0 < busy / quiet < 6.25
    assert 0.9 < len(trades) / (3 * 4000 * STEP.total_seconds()) < 1.1


def test_the_profile_is_counted_from_the_epoch_in_utc() -> None:
    profile = VolumeProfile([D(i + 1) for i in range(24)], timedelta(days=1))
    assert profile.factor(START.replace(hour=0)) == pytest.approx(1 / 12.5)
    assert profile.factor(START.replace(hour=23, minute=59)) == pytest.approx(24 / 12.5)
    with pytest.raises(ValueError, match="one above zero"):
        VolumeProfile([D(0)], timedelta(days=1))


def test_own_fills_print_with_the_orders_side_as_aggressor() -> None:
    venue = exchange()
    venue.feed_update(())
    asks = venue.book(BTC_PERP).asks
    answers = venue.submit(
        new_order("OWN-1", price=asks[1].price, quantity=asks[0].size + D("0.1")), START
    )
    fills = [
        (report.last_px, report.last_qty)
        for report in answers
        if isinstance(report, ExecutionReport) and report.exec_type is ExecType.TRADE
    ]
    printed = venue.feed_update(()).trades[BTC_PERP]
    assert [(trade.price, trade.size) for trade in printed] == fills
    assert fills == [(asks[0].price, asks[0].size), (asks[1].price, D("0.1"))]
    assert {trade.aggressor for trade in printed} == {Side.BUY}
    last = venue.buckets(BTC_PERP)[-1]
    assert last.second == epoch_second(START)
    assert (last.volume, last.count) == (asks[0].size + D("0.1"), 2)
    assert last.close == asks[1].price


def test_the_tape_starts_with_backfilled_history_at_the_start_price() -> None:
    venue = exchange()
    book = venue.book(BTC_PERP)
    buckets = venue.buckets(BTC_PERP)
    assert buckets[0].second >= epoch_second(START - MARKET.tape.backfill)
    assert buckets[-1].second < epoch_second(START)
    assert len(buckets) > 0.9 * MARKET.tape.backfill.total_seconds()
    for bucket in buckets:
        assert {bucket.low, bucket.high} <= {book.bids[0].price, book.asks[0].price}
        assert bucket.first_time <= bucket.last_time < START
    last = venue.last_trade(BTC_PERP)
    assert last is not None and last.time == buckets[-1].last_time
    assert venue.feed_update(()).trades == {}


def test_buckets_are_kept_for_the_retention_only() -> None:
    venue = exchange(market=with_tape(retention=timedelta(seconds=10)))
    trades_over(venue, 150)
    now = epoch_second(START + 150 * STEP)
    buckets = venue.buckets(BTC_PERP)
    assert now - 10 <= buckets[0].second and buckets[-1].second <= now
    window = venue.buckets(BTC_PERP, now - 3, now)
    assert window == [bucket for bucket in buckets if now - 3 <= bucket.second < now]
    assert len(window) == 3


def test_poisson_counts_have_the_asked_mean() -> None:
    rng = random.Random(5)
    for mean in (0.3, 4.0, 80.0):
        counts = [poisson(rng, mean) for _ in range(4000)]
        assert sum(counts) / len(counts) == pytest.approx(mean, rel=0.08)
    assert poisson(rng, 0) == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('profile_period = "1DAY"', 'profile_period = "1WEEK"'), "is not a period"),
        (('backfill = "15MIN"', "backfill = 15"), "is not a period"),
        (('"1.3", "1.2"', '"-1.3", "1.2"'), "profile weights must not be negative"),
        (('trade_rate = "3"', 'trade_rate = "fast"'), "trade_rate 'fast' is not a number"),
        (("[tape]", "[tapes]"), "lack a [tape] table"),
    ],
)
def test_the_tape_parameters_are_checked(change: tuple[str, str], words: str) -> None:
    text = read_text("simulator.toml")
    assert change[0] in text
    with pytest.raises(SimulatorConfigError, match=re.escape(words)):
        MarketParameters.from_toml(text.replace(change[0], change[1], 1))
