"""Execution quality from fills and market samples: arrival, average, slippage, market VWAP and
TWAP, participation. No I/O."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sor_daemon.domain.events import MarketSampled
from sor_daemon.domain.quality import ExecutionQuality, MarketSums, execution_quality
from sor_daemon.domain.values import ChildStatus, Fill
from sor_daemon.protocol.messages import Side
from tests.domain.test_twap import trade_slice
from tests.support.orders import START, new_order


def sample(index: int, volume: str | None, notional: str | None, mid: str | None) -> MarketSampled:
    end = START + timedelta(seconds=index)
    return MarketSampled(
        "order-1",
        index,
        end - timedelta(seconds=1),
        end,
        None if volume is None else Decimal(volume),
        None if notional is None else Decimal(notional),
        None if mid is None else Decimal(mid),
        end,
    )


def fill(quantity: str, price: str) -> Fill:
    return Fill(
        "order-1",
        "order-1-1",
        "DERIBIT",
        "DERIBIT_PERP_BTC_USD",
        Side.BUY,
        Decimal(quantity),
        Decimal(price),
        ChildStatus.FILLED,
        START,
    )


def quality_of(side: Side, fills: list[Fill], samples: list[MarketSampled]) -> ExecutionQuality:
    """The figures of an order started at START, from its fills' and its samples' sums."""
    market = MarketSums()
    for one in samples:
        market.add(one, START)
    filled = sum((one.quantity for one in fills), Decimal(0))
    notional = sum((one.quantity * one.price for one in fills), Decimal(0))
    return execution_quality(side, filled, notional, market)


SAMPLES = [
    sample(0, "50", "5000000", "100000"),  # the interval before the start: not the order's life
    sample(1, "10", "1000100", "100010"),
    sample(2, "30", "3000600", "100030"),
]


def test_a_buy_that_paid_above_arrival_shows_a_positive_cost() -> None:
    quality = quality_of(Side.BUY, [fill("1", "100020"), fill("3", "100040")], SAMPLES)
    assert quality.arrival_price == Decimal(100000)
    assert quality.average_price == Decimal(100035)
    assert quality.slippage_bps == Decimal("3.5")
    assert quality.market_vwap == Decimal("100017.5")  # 4000700 / 40
    assert quality.market_twap == Decimal("100013.33333333")  # the mean of the three mids
    assert quality.participation_rate == Decimal("0.1")


def test_a_sell_below_arrival_is_a_cost_too() -> None:
    quality = quality_of(Side.SELL, [fill("2", "99990")], SAMPLES)
    assert quality.slippage_bps == Decimal(1)
    better = quality_of(Side.SELL, [fill("2", "100010")], SAMPLES)
    assert better.slippage_bps == Decimal(-1)


def test_what_cannot_be_known_is_none() -> None:
    quality = quality_of(Side.BUY, [], [sample(0, None, None, None)])
    assert quality.arrival_price is None
    assert quality.average_price is None
    assert quality.slippage_bps is None
    assert quality.market_vwap is None
    assert quality.market_twap is None
    assert quality.participation_rate is None


def test_an_order_sums_its_fills_notional_as_they_are_booked() -> None:
    order = new_order(amount="10", duration="4SEC", interval="1SEC")
    for index, filled in enumerate(("1", "0.5", None, "2", None)):
        trade_slice(order, index, filled)

    fills = list(order.fills)
    assert len(fills) == 5
    assert order.filled_notional == sum((f.quantity * f.price for f in fills), Decimal(0))
    assert (
        order.quality().average_price
        == (order.filled_notional / order.filled).quantize(Decimal("1e-8")).normalize()
    )


def test_an_order_sums_its_samples_as_they_are_booked() -> None:
    order = new_order(amount="10", duration="6SEC", interval="1SEC")
    for one in [*SAMPLES, sample(3, "20", None, None), sample(4, None, None, "100050")]:
        order.apply(one)

    sums = order.market_sums
    assert len(order.samples) == 5
    assert (sums.arrival, sums.mids, sums.mid_count) == (100000, 400090, 4)
    assert (sums.volume, sums.notional) == (60, 4000700)  # from START on, where known
    assert order.quality() == quality_of(Side.BUY, [], list(order.samples))
