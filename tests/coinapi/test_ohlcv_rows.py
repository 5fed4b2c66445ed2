"""OhlcvClient's requests and rows, against a scripted server in CoinAPI's documented shape."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from starlette.responses import JSONResponse

from sor_daemon.coinapi.ohlcv import OhlcvClient, OhlcvRow
from sor_daemon.coinapi.rest import CoinApiRest, UpstreamError

from .conftest import ScriptedServer

ROW = {
    "time_period_start": "2026-11-25T10:00:00.0000000Z",
    "time_period_end": "2026-11-25T10:00:01.0000000Z",
    "time_open": "2026-11-25T10:00:00.0213000Z",
    "time_close": "2026-11-25T10:00:00.9770000Z",
    "price_open": 60001.5,
    "price_high": 60003.0,
    "price_low": 60000.5,
    "price_close": 60002.0,
    "volume_traded": 1.734,
    "trades_count": 9,
}


def ohlcv(server: ScriptedServer) -> OhlcvClient:
    return OhlcvClient(CoinApiRest(server.url, "key"))


async def test_history_asks_for_a_period_between_two_times_and_reads_decimal_rows(
    server: ScriptedServer,
) -> None:
    server.answers.append(JSONResponse([ROW]))
    start = datetime(2026, 11, 25, 10, tzinfo=UTC)
    end = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)

    rows = await ohlcv(server).history("KRAKEN_SPOT_BTC_USD", "1SEC", start, end, limit=31)

    (request,) = server.requests
    assert request.url.path == "/v1/ohlcv/KRAKEN_SPOT_BTC_USD/history"
    assert dict(request.query_params) == {
        "period_id": "1SEC",
        "time_start": "2026-11-25T10:00:00.0000000Z",
        "time_end": "2026-11-25T10:00:30.0000000Z",
        "limit": "31",
    }
    assert rows == [
        OhlcvRow(
            time_period_start=start,
            time_period_end=datetime(2026, 11, 25, 10, 0, 1, tzinfo=UTC),
            time_open=datetime(2026, 11, 25, 10, 0, 0, 21300, tzinfo=UTC),
            time_close=datetime(2026, 11, 25, 10, 0, 0, 977000, tzinfo=UTC),
            price_open=Decimal("60001.5"),
            price_high=Decimal("60003.0"),
            price_low=Decimal("60000.5"),
            price_close=Decimal("60002.0"),
            volume_traded=Decimal("1.734"),
            trades_count=9,
        )
    ]


async def test_latest_asks_for_the_newest_rows(server: ScriptedServer) -> None:
    server.answers.append(JSONResponse([ROW, ROW]))

    rows = await ohlcv(server).latest("KRAKEN_SPOT_BTC_USD", "10SEC", limit=2)

    assert len(rows) == 2
    (request,) = server.requests
    assert request.url.path == "/v1/ohlcv/KRAKEN_SPOT_BTC_USD/latest"
    assert dict(request.query_params) == {"period_id": "10SEC", "limit": "2"}


@pytest.mark.parametrize(
    "body",
    [
        {"rows": []},
        [{**ROW, "price_high": "NaN"}],
        [{**ROW, "volume_traded": None}],
        [{key: value for key, value in ROW.items() if key != "time_open"}],
        [{**ROW, "time_close": "yesterday"}],
    ],
    ids=["not a list", "not finite", "null volume", "missing time", "bad time"],
)
async def test_rows_not_in_coinapis_shape_are_an_upstream_error(
    server: ScriptedServer, body: object
) -> None:
    server.answers.append(JSONResponse(body))

    with pytest.raises(UpstreamError, match="KRAKEN_SPOT_BTC_USD"):
        await ohlcv(server).latest("KRAKEN_SPOT_BTC_USD", "1SEC")
