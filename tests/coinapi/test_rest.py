"""CoinApiRest against a real HTTP server: what is retried, what is not, and what it says."""

from __future__ import annotations

import pytest
import trio
from starlette.responses import JSONResponse, Response

from sor_daemon.coinapi.rest import ApiKeyError, CoinApiRest, RetryPolicy, UpstreamError
from sor_daemon.sim.service import free_port

from .conftest import HANG, ScriptedServer

QUICK = RetryPolicy(attempts=3, first_backoff=0.01, max_backoff=0.05)


def client(url: str, api_key: str | None = "key-1234", timeout: float = 2.0) -> CoinApiRest:
    return CoinApiRest(url, api_key, timeout, retry=QUICK, key_setting="market_data.api_key")


def error(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": text}, status_code=status, headers=headers)


async def test_the_key_goes_in_its_header(server: ScriptedServer) -> None:
    assert await client(server.url).get_json("/v1/thing", {"a": "1"}) == {"ok": True}

    (request,) = server.requests
    assert request.headers["X-CoinAPI-Key"] == "key-1234"
    assert request.url.path == "/v1/thing"
    assert request.query_params["a"] == "1"


async def test_a_server_error_is_retried(server: ScriptedServer) -> None:
    server.answers += [error(503, "busy"), error(500, "oops")]

    assert await client(server.url).get_json("/v1/thing") == {"ok": True}
    assert len(server.requests) == 3


async def test_a_throttled_request_waits_its_retry_after_capped_by_the_largest_backoff(
    server: ScriptedServer,
) -> None:
    server.answers.append(error(429, "slow down", {"Retry-After": "30"}))

    with trio.fail_after(1):  # Retry-After says 30 s; the cap is 0.05 s
        assert await client(server.url).get_json("/v1/thing") == {"ok": True}
    assert len(server.requests) == 2


async def test_retries_end_after_the_last_attempt(server: ScriptedServer) -> None:
    server.answers += [error(429, "slow down", {"Retry-After": "0"})] * 3

    with pytest.raises(UpstreamError) as raised:
        await client(server.url).get_json("/v1/thing")

    assert raised.value.status == 429
    assert "throttled the caller (429); gave up after 3 attempts" in str(raised.value)
    assert len(server.requests) == 3


async def test_a_refused_key_is_never_retried_and_says_what_to_check(
    server: ScriptedServer,
) -> None:
    server.answers.append(error(401, "Invalid API key"))

    with pytest.raises(ApiKeyError) as raised:
        await client(server.url).get_json("/v1/thing")

    message = str(raised.value)
    assert message.startswith("CoinAPI refused the API key ending in '1234'")
    assert "(401: Invalid API key): check market_data.api_key" in message
    assert len(server.requests) == 1


async def test_a_missing_key_says_to_set_one(server: ScriptedServer) -> None:
    server.answers.append(error(403, "Forbidden"))

    with pytest.raises(ApiKeyError, match=r"needs an API key and none is configured .*: set "):
        await client(server.url, api_key=None).get_json("/v1/thing")
    assert "X-CoinAPI-Key" not in server.requests[0].headers


@pytest.mark.parametrize(("status", "text"), [(400, "bad period_id"), (550, "no data")])
async def test_other_client_errors_and_no_data_are_not_retried(
    server: ScriptedServer, status: int, text: str
) -> None:
    server.answers.append(error(status, text))

    with pytest.raises(UpstreamError, match=f"answered {status}: {text}$") as raised:
        await client(server.url).get_json("/v1/thing")

    assert raised.value.status == status
    assert len(server.requests) == 1


async def test_a_slow_answer_times_out_and_is_retried(server: ScriptedServer) -> None:
    server.answers.append(HANG)

    assert await client(server.url, timeout=0.3).get_json("/v1/thing") == {"ok": True}
    assert len(server.requests) == 2


async def test_an_unreachable_server_is_tried_every_attempt() -> None:
    url = f"http://127.0.0.1:{free_port('127.0.0.1')}"

    with pytest.raises(UpstreamError, match=r"could not be reached.*gave up after 3 attempts"):
        await client(url).get_json("/v1/thing")


async def test_an_answer_that_is_not_json_is_an_error(server: ScriptedServer) -> None:
    server.answers.append(Response("<html>", media_type="text/html"))

    with pytest.raises(UpstreamError, match="did not answer JSON"):
        await client(server.url).get_json("/v1/thing")
