"""MarketData on the real parts: the market-data session over FIX and OHLCV over HTTP, against
the simulator, whose feed and OHLCV come from the same seeded market."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import attrs
import httpx
import pytest
import trio

from sor_daemon.coinapi.ohlcv import OhlcvClient
from sor_daemon.coinapi.rest import CoinApiRest, RetryPolicy
from sor_daemon.domain.market import BookView
from sor_daemon.engine.clock import SystemClock
from sor_daemon.fix.market_data import MarketDataSession, MarketDataSettings
from sor_daemon.market.history import history_traded
from sor_daemon.market.service import MarketData
from sor_daemon.sim.service import SimulatorHandle, serve_simulator
from tests.support.markets import loopback_simulator

SYMBOL = "KRAKEN_SPOT_BTC_USD"
WAIT = 20


@attrs.frozen
class Rig:
    simulator: SimulatorHandle
    market: MarketData
    ohlcv: OhlcvClient
    clock: SystemClock


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    settings = loopback_simulator(tmp_path / "sim")
    async with trio.open_nursery() as nursery:
        simulator = await nursery.start(serve_simulator, settings)
        session = MarketDataSession(
            MarketDataSettings(
                host=simulator.fix_host,
                port=simulator.md_port,
                api_key=simulator.md_api_key,
                heartbeat_seconds=1,
                reconnect_seconds=1,
            ),
            tmp_path / "daemon",
        )
        await nursery.start(session.run)
        ohlcv = OhlcvClient(CoinApiRest(simulator.http_url, retry=RetryPolicy(max_backoff=0.2)))
        clock = SystemClock()
        market = MarketData(session, ohlcv, clock, depth=3)
        await nursery.start(market.run)
        yield Rig(simulator, market, ohlcv, clock)
        nursery.cancel_scope.cancel()


async def live_book(market: MarketData) -> BookView:
    with trio.fail_after(WAIT):
        while (book := market.book(SYMBOL)) is None:
            await trio.sleep(0.05)
    return book


async def server_sees(simulator: SimulatorHandle, kind: str) -> set[str]:
    async with httpx.AsyncClient(base_url=simulator.http_url) as client:
        listing = (await client.get("/v1/sim/market-data/subscriptions")).json()
    return {entry["symbol_id"] for entry in listing[kind]}


async def test_a_watched_symbol_gets_a_live_book_and_the_tape_agrees_with_ohlcv(
    rig: Rig,
) -> None:
    rig.market.watch([SYMBOL])
    book = await live_book(rig.market)
    assert 0 < len(book.bids) <= 3
    assert 0 < len(book.asks) <= 3
    assert book.mid is not None
    assert book.is_fresh(rig.clock.now(), timedelta(seconds=5))

    # Three whole seconds the live tape saw from their start to their end.
    first = book.at.replace(microsecond=0) + timedelta(seconds=1)
    start, end = first, first + timedelta(seconds=3)
    await trio.sleep_until(rig.clock.deadline(end + timedelta(seconds=0.5)))
    live = await rig.market.activity([SYMBOL], start, end)
    from_ohlcv = await history_traded(rig.ohlcv, [SYMBOL], start, end)

    assert live is not None
    assert from_ohlcv is not None
    assert live.volume > 0
    assert live.volume == from_ohlcv[0]
    assert live.vwap is not None


async def test_before_the_watch_activity_comes_from_ohlcv(rig: Rig) -> None:
    start = rig.clock.now()
    await trio.sleep_until(rig.clock.deadline(start + timedelta(seconds=2)))
    rig.market.watch([SYMBOL])
    await live_book(rig.market)

    activity = await rig.market.activity([SYMBOL], start, start + timedelta(seconds=2))

    assert activity is not None
    assert activity.volume > 0


async def test_the_last_unwatch_ends_the_subscription(rig: Rig) -> None:
    rig.market.watch([SYMBOL])
    rig.market.watch([SYMBOL])
    await live_book(rig.market)

    rig.market.unwatch([SYMBOL])
    assert rig.market.book(SYMBOL) is not None
    rig.market.unwatch([SYMBOL])

    assert rig.market.book(SYMBOL) is None
    with trio.fail_after(WAIT):
        while SYMBOL in await server_sees(rig.simulator, "active"):
            await trio.sleep(0.05)
    assert SYMBOL in await server_sees(rig.simulator, "unsubscribed")
