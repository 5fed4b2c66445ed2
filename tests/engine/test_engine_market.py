"""The engine with market data on a mock clock: VWAP slices follow volume, symbols are watched
while orders run, stale books pause trading, and execution quality is recorded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import trio
import trio.testing

from sor_daemon.domain.values import OrderStatus
from tests.support.orders import START
from tests.support.rig import Rig, new, replayed, wait_until_over


async def test_a_vwap_trades_its_share_of_each_interval_volume(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    # 10 a second traded, so 600 a minute; the default 10% threshold allows 60 a slice,
    # more than the even share of 100 over 11 slices: the even share binds until the end.
    order = await rig.engine.submit(new("100", "10MIN", "1MIN", algorithm="VWAP"))
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    *slices, closing = order.samples
    assert len(slices) == 11
    assert all(sample.volume == Decimal(600) for sample in slices)
    assert closing.slice_index == 11 and closing.start == slices[-1].end  # the life, to its end
    assert replayed(rig.journal, order.id) == order


async def test_a_quiet_market_shrinks_vwap_slices_and_the_order_expires(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    rig.market.volume_per_second = Decimal("0.05")  # 3 a minute: slices of 0.3
    order = await rig.engine.submit(new("10", "4MIN", "1MIN", algorithm="VWAP"))
    await wait_until_over(order)
    assert [child.quantity for child in order.children.values()] == [Decimal("0.3")] * 5
    assert order.status is OrderStatus.EXPIRED
    assert order.status_info == "the schedule ended with 8.5 of 10 unfilled"


async def test_symbols_are_watched_while_an_order_runs(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    first = await rig.engine.submit(new("1", "2MIN", "1MIN", order_id="a"))
    second = await rig.engine.submit(
        new("1", "4MIN", "1MIN", order_id="b", exchanges=("DERIBIT", "BINANCE"))
    )
    await trio.sleep(1)
    assert rig.market.watched == {"DERIBIT_PERP_BTC_USD": 2, "BINANCEFTSC_PERP_BTC_USD": 1}
    await wait_until_over(first)
    await trio.sleep(1)
    assert rig.market.watched == {"DERIBIT_PERP_BTC_USD": 1, "BINANCEFTSC_PERP_BTC_USD": 1}
    await wait_until_over(second)
    await trio.sleep(1)
    assert rig.market.watched == {}


async def test_stale_books_pause_trading_and_say_so_until_fresh_again(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "4MIN", "1MIN"))
    await trio.sleep(30)
    rig.market.frozen_at = START + timedelta(seconds=30)
    await trio.sleep(60)  # slice 1 comes due on books 30s old
    assert len(order.children) == 1
    assert order.status is OrderStatus.RUNNING
    assert order.status_info == (
        "no usable market data: DERIBIT: market data is stale (nothing heard for over 10s)"
    )
    rig.market.frozen_at = None
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED
    assert order.children["day-1-2"].slice_index == 1  # slice 1 traded late, once


async def test_execution_quality_is_known_when_the_order_ends(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("1", "2MIN", "1MIN"))
    await wait_until_over(order)
    quality = order.quality()
    assert quality.arrival_price == Decimal("66370.5")
    assert quality.average_price == Decimal("66437")  # the paper venue fills at the limit
    assert quality.market_vwap == Decimal("66370.5")
    assert quality.participation_rate == Decimal("0.000833")  # 1 of 1200 traded
    assert quality.slippage_bps == Decimal("10.02")
