"""The OHLCV endpoints with httpx against a running simulator, and the throttle fault.

A simulator whose market steps once an hour serves only its backfilled history, so totals are
fixed while a test asks; one stepping every 100 ms shows the current period growing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import attrs
import httpx
import pytest
import trio

from sor_daemon.protocol.times import format_iso, parse_iso
from sor_daemon.sim.service import SimulatorHandle
from tests.support.markets import around_the_clock

from .conftest import StartSimulator

BTC_PERP = "DERIBIT_PERP_BTC_USD"
ROW_FIELDS = {
    "time_period_start",
    "time_period_end",
    "time_open",
    "time_close",
    "price_open",
    "price_high",
    "price_low",
    "price_close",
    "volume_traded",
    "trades_count",
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
STILL_MARKET = attrs.evolve(around_the_clock(), step=timedelta(hours=1))
FAST_MARKET = attrs.evolve(around_the_clock(), step=timedelta(milliseconds=100))


async def get(handle: SimulatorHandle, path: str, **params: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=handle.http_url) as http:
        return await http.get(path, params=params)


def starts(rows: list[dict]) -> list[datetime]:
    return [parse_iso(row["time_period_start"]) for row in rows]


async def test_latest_rows_are_newest_first_in_coinapis_shape(
    start_simulator: StartSimulator,
) -> None:
    handle = await start_simulator(market=STILL_MARKET)
    response = await get(handle, f"/v1/ohlcv/{BTC_PERP}/latest", period_id="1SEC")
    rows = response.json()
    assert response.status_code == 200 and len(rows) == 100
    assert starts(rows) == sorted(starts(rows), reverse=True)
    for row in rows:
        assert set(row) == ROW_FIELDS
        assert all(ISO.match(row[key]) for key in ROW_FIELDS if key.startswith("time_"))
        start, end = parse_iso(row["time_period_start"]), parse_iso(row["time_period_end"])
        assert end - start == timedelta(seconds=1) and start.microsecond == 0
        assert start <= parse_iso(row["time_open"]) <= parse_iso(row["time_close"]) < end
        assert row["price_low"] <= min(row["price_open"], row["price_close"])
        assert row["price_high"] >= max(row["price_open"], row["price_close"])
        assert row["volume_traded"] > 0 and row["trades_count"] >= 1


async def test_longer_periods_add_up_the_seconds_and_start_on_the_epochs_grid(
    start_simulator: StartSimulator,
) -> None:
    handle = await start_simulator(market=STILL_MARKET)
    path = f"/v1/ohlcv/{BTC_PERP}/latest"
    seconds = (await get(handle, path, period_id="1SEC", limit=100_000)).json()
    minutes = (await get(handle, path, period_id="1MIN", limit=100_000)).json()
    tens = (await get(handle, path, period_id="10SEC", limit=3)).json()
    assert 800 < len(seconds) <= 901 and 15 <= len(minutes) <= 16
    assert sum(row["trades_count"] for row in minutes) == sum(
        row["trades_count"] for row in seconds
    )
    assert sum(row["volume_traded"] for row in minutes) == pytest.approx(
        sum(row["volume_traded"] for row in seconds)
    )
    assert all(start.second == 0 for start in starts(minutes))
    assert [start.second % 10 for start in starts(tens)] == [0, 0, 0]
    assert starts(tens)[0] - starts(tens)[2] == timedelta(seconds=20)


async def test_latest_includes_the_period_still_running(start_simulator: StartSimulator) -> None:
    handle = await start_simulator(market=FAST_MARKET)
    with trio.fail_after(10):
        while True:
            asked = datetime.now(UTC)
            rows = (await get(handle, f"/v1/ohlcv/{BTC_PERP}/latest", period_id="2SEC")).json()
            running = parse_iso(rows[0]["time_period_start"]), parse_iso(rows[0]["time_period_end"])
            if running[0] <= asked < running[1]:
                return
            await trio.sleep(0.05)


async def test_history_is_oldest_first_within_the_window_and_the_limit(
    start_simulator: StartSimulator,
) -> None:
    handle = await start_simulator(market=STILL_MARKET)
    path = f"/v1/ohlcv/{BTC_PERP}/history"
    [last] = (await get(handle, f"/v1/ohlcv/{BTC_PERP}/latest", period_id="1SEC", limit=1)).json()
    newest = parse_iso(last["time_period_start"])
    start = newest - timedelta(minutes=5, microseconds=1)
    end = newest - timedelta(minutes=2)
    window = {"time_start": format_iso(start), "time_end": format_iso(end)}
    rows = (await get(handle, path, period_id="10SEC", **window)).json()
    limited = (await get(handle, path, period_id="10SEC", limit=4, **window)).json()
    open_ended = (await get(handle, path, period_id="1MIN", time_start=format_iso(start))).json()
    assert starts(rows) == sorted(starts(rows)) and 15 <= len(rows) <= 18
    assert all(start <= moment < end and moment.second % 10 == 0 for moment in starts(rows))
    assert limited == rows[:4]
    first_minute = (start + timedelta(seconds=59, microseconds=999_999)).replace(
        second=0, microsecond=0
    )
    minutes = int((newest - first_minute).total_seconds() // 60) + 1
    assert starts(open_ended) == [first_minute + timedelta(minutes=i) for i in range(minutes)]


BAD_PARAMETERS = [
    ("latest", {}, "period_id is required"),
    ("latest", {"period_id": "1MTH"}, "months and years have no fixed length"),
    ("latest", {"period_id": "fast"}, "is not a period"),
    ("latest", {"period_id": "1SEC", "limit": "0"}, "limit '0' must be"),
    ("latest", {"period_id": "1SEC", "limit": "100001"}, "limit '100001' must be"),
    ("history", {"period_id": "1SEC"}, "time_start is required"),
    ("history", {"period_id": "1SEC", "time_start": "today"}, "is not an ISO 8601 time"),
    (
        "history",
        {
            "period_id": "1SEC",
            "time_start": "2024-07-24T09:00:00Z",
            "time_end": "2024-07-24T08:00:00Z",
        },
        "must be after time_start",
    ),
]


async def test_a_bad_parameter_gets_400_with_a_sentence(simulator: SimulatorHandle) -> None:
    for endpoint, params, words in BAD_PARAMETERS:
        response = await get(simulator, f"/v1/ohlcv/{BTC_PERP}/{endpoint}", **params)
        assert response.status_code == 400, (endpoint, params)
        assert list(response.json()) == ["error"] and words in response.json()["error"]


async def test_an_unknown_symbol_gets_550(simulator: SimulatorHandle) -> None:
    latest = await get(simulator, "/v1/ohlcv/NOPE_SPOT_BTC_USD/latest", period_id="1MIN")
    history = await get(
        simulator,
        "/v1/ohlcv/NOPE_SPOT_BTC_USD/history",
        period_id="1MIN",
        time_start="2024-07-24T09:00:00Z",
    )
    assert (latest.status_code, history.status_code) == (550, 550)
    assert latest.json() == {"error": "unknown symbol NOPE_SPOT_BTC_USD: no data for it"}


async def test_the_api_key_is_required_when_set(start_simulator: StartSimulator) -> None:
    handle = await start_simulator(api_key="s3cret")
    path = f"/v1/ohlcv/{BTC_PERP}/latest"
    async with httpx.AsyncClient(base_url=handle.http_url) as http:
        missing = await http.get(path, params={"period_id": "1MIN"})
        wrong = await http.get(
            path, params={"period_id": "1MIN"}, headers={"X-CoinAPI-Key": "guess"}
        )
        right = await http.get(
            path, params={"period_id": "1MIN"}, headers={"X-CoinAPI-Key": "s3cret"}
        )
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "missing API key" in missing.json()["error"]
    assert list(wrong.json()) == ["error"] and "wrong API key" in wrong.json()["error"]


async def test_the_throttle_fault_answers_429_for_as_many_requests_as_set(
    simulator: SimulatorHandle,
) -> None:
    path = f"/v1/ohlcv/{BTC_PERP}/latest"
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        armed = await http.post("/v1/sim/faults", json={"ohlcv_throttle": 2})
        throttled = [await http.get(path, params={"period_id": "1MIN"}) for _ in range(2)]
        served = await http.get(path, params={"period_id": "1MIN"})
        after = (await http.get("/v1/sim/faults")).json()
    assert armed.json()["ohlcv_throttle"] == 2
    for response in throttled:
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        assert "too many requests" in response.json()["error"]
    assert served.status_code == 200 and after["ohlcv_throttle"] == 0


BAD_FAULT_CHANGES = [
    ({"ohlcv_throttle": -1}, "ohlcv_throttle must be a whole number >= 0"),
    ({"ohlcv_throttle": True}, "ohlcv_throttle must be a whole number >= 0"),
    ({"ohlcv_throttle": 1.5}, "ohlcv_throttle must be a whole number >= 0"),
    ({"ohlcv_throttle": "2"}, "ohlcv_throttle must be a whole number >= 0"),
    ({"market_data_frozen": 1}, "market_data_frozen must be true or false"),
    ({"market_data_frozen": True, "ohlcv_throttle": -2}, "ohlcv_throttle must be"),
]


async def test_a_bad_market_data_fault_change_gets_400_and_changes_nothing(
    simulator: SimulatorHandle,
) -> None:
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        for change, words in BAD_FAULT_CHANGES:
            response = await http.post("/v1/sim/faults", json=change)
            assert response.status_code == 400, change
            assert words in response.json()["message"]
        after = (await http.get("/v1/sim/faults")).json()
    assert (after["market_data_frozen"], after["ohlcv_throttle"]) == (False, 0)
