"""OhlcvClient against the simulator's OHLCV endpoints: rows, a refused key, a retried 429."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio

from sor_daemon.coinapi.ohlcv import OhlcvClient, OhlcvRow
from sor_daemon.coinapi.rest import ApiKeyError, CoinApiRest, RetryPolicy, UpstreamError
from sor_daemon.sim.service import SimulatorHandle, serve_simulator
from sor_daemon.sim.settings import SimulatorSettings

KEY = "s3cret-key"
SYMBOL = "KRAKEN_SPOT_BTC_USD"
QUICK = RetryPolicy(attempts=3, first_backoff=0.01, max_backoff=0.1)
WAIT = 20


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[SimulatorHandle]:
    settings = SimulatorSettings(
        data_dir=tmp_path / "sim", fix_port=0, http_port=0, md_port=0, seed=7, api_key=KEY
    )
    async with trio.open_nursery() as nursery:
        yield await nursery.start(serve_simulator, settings)
        nursery.cancel_scope.cancel()


def client(simulator: SimulatorHandle, api_key: str | None = KEY) -> OhlcvClient:
    return OhlcvClient(CoinApiRest(simulator.http_url, api_key, retry=QUICK))


async def first_rows(ohlcv: OhlcvClient, count: int) -> list[OhlcvRow]:
    """The newest 1SEC rows once there are ``count`` of them (the market trades as it steps)."""
    with trio.fail_after(WAIT):
        while True:
            rows = await ohlcv.latest(SYMBOL, "1SEC", limit=count)
            if len(rows) >= count:
                return rows
            await trio.sleep(0.2)


async def set_faults(simulator: SimulatorHandle, switches: dict[str, object]) -> None:
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        response = await http.post("/v1/sim/faults", json=switches, headers={"X-CoinAPI-Key": KEY})
    response.raise_for_status()


async def test_latest_and_history_give_typed_rows_in_their_order(
    simulator: SimulatorHandle,
) -> None:
    ohlcv = client(simulator)
    newest_first = await first_rows(ohlcv, 2)

    assert newest_first[0].time_period_start > newest_first[1].time_period_start
    start, end = newest_first[1].time_period_start, newest_first[0].time_period_end
    oldest_first = await ohlcv.history(SYMBOL, "1SEC", start, end, limit=10)

    assert [row.time_period_start for row in oldest_first] == sorted(
        row.time_period_start for row in oldest_first
    )
    assert all(start <= row.time_period_start < end for row in oldest_first)
    row = oldest_first[0]
    assert row.time_period_end - row.time_period_start == newest_first[0].time_period_end - (
        newest_first[0].time_period_start
    )
    assert row.price_low <= min(row.price_open, row.price_close)
    assert row.price_high >= max(row.price_open, row.price_close)
    assert row.volume_traded > 0
    assert row.trades_count > 0


async def test_a_wrong_key_is_refused_at_once(simulator: SimulatorHandle) -> None:
    with pytest.raises(ApiKeyError, match="CoinAPI refused the API key ending in 'oops'"):
        await client(simulator, api_key="whoops").latest(SYMBOL, "1SEC")

    with pytest.raises(ApiKeyError, match="none is configured"):
        await client(simulator, api_key=None).latest(SYMBOL, "1SEC")


async def test_a_throttled_request_is_retried(simulator: SimulatorHandle) -> None:
    await first_rows(client(simulator), 1)
    await set_faults(simulator, {"ohlcv_throttle": 2})

    rows = await client(simulator).latest(SYMBOL, "1SEC", limit=1)

    assert len(rows) == 1
    assert simulator.faults.current().ohlcv_throttle == 0  # both 429s were met, then retried


async def test_throttling_longer_than_the_attempts_is_an_error(simulator: SimulatorHandle) -> None:
    await set_faults(simulator, {"ohlcv_throttle": 5})

    with pytest.raises(UpstreamError, match=r"429\); gave up after 3 attempts") as raised:
        await client(simulator).latest(SYMBOL, "1SEC")
    assert raised.value.status == 429


async def test_an_unknown_symbol_has_no_data_and_is_not_retried(
    simulator: SimulatorHandle,
) -> None:
    with pytest.raises(UpstreamError) as raised:
        await client(simulator).latest("NOWHERE_SPOT_FOO_BAR", "1SEC")

    assert raised.value.status == 550
