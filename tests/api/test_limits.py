"""Input limits: body size (413), WebSocket message size, running orders per key, feed
connections, and a stalled feed client cut off while another keeps receiving."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from tests.api.conftest import KEYS, headers, new_order, serving, ws_new


async def test_a_body_over_the_limit_is_answered_413(tmp_path: Path) -> None:
    async with (
        serving(tmp_path, max_body_bytes=1000) as api,
        httpx.AsyncClient(base_url=api.url, headers=headers("ops")) as http,
    ):
        declared = await http.post("/v1/sor/add", content=b"x" * 1001)

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed
            for _ in range(5):
                yield b"x" * 400

        streamed = await http.post("/v1/sor/add", content=chunks())
        fits = await http.post("/v1/sor/add", json=new_order())
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"] == "BODY_TOO_LARGE"
        assert "1000 bytes" in response.json()["message"]
    assert fits.status_code == 200


async def test_a_websocket_message_over_the_limit_is_rejected(tmp_path: Path) -> None:
    async with (
        serving(tmp_path, max_message_bytes=300) as api,
        open_websocket_url(f"{api.ws_url}?api_key={KEYS['ops']}") as ws,
    ):
        await ws.send_message(ws_new(padding="x" * 300))
        reject = json.loads(await ws.get_message())
    assert reject["Type"] == "Reject"
    assert "api.max_message_bytes" in reject["Data"]["RejectMessage"]


async def test_a_key_may_have_only_so_many_orders_running(tmp_path: Path) -> None:
    async with (
        serving(tmp_path, max_open_orders_per_key=2) as api,
        httpx.AsyncClient(base_url=api.url, headers=headers("desk-1")) as http,
    ):
        statuses = [(await http.post("/v1/sor/add", json=new_order())).status_code]
        statuses.append((await http.post("/v1/sor/add", json=new_order())).status_code)
        refused = await http.post("/v1/sor/add", json=new_order())
        other = await http.post("/v1/sor/add", json=new_order(), headers=headers("desk-2"))
        async with open_websocket_url(f"{api.ws_url}?api_key={KEYS['desk-1']}") as ws:
            await ws.send_message(ws_new())
            reject = json.loads(await ws.get_message())
        first = (await http.get("/v1/sor/requests")).json()[0]["id"]
        assert (await http.post(f"/v1/sor/cancel/{first}")).is_success
        again = await http.post("/v1/sor/add", json=new_order())
    assert statuses == [200, 200]
    assert refused.status_code == 400
    assert "already has 2 smart orders running" in refused.json()["message"]
    assert other.status_code == 200
    assert reject["Type"] == "Reject" and "api.max_open_orders_per_key" in str(reject)
    assert again.status_code == 200


async def test_a_connection_over_the_limit_is_refused_at_the_handshake(tmp_path: Path) -> None:
    async with serving(tmp_path, max_connections=2) as api:
        url = f"{api.ws_url}?api_key={KEYS['viewer']}"
        async with open_websocket_url(url), open_websocket_url(url):
            with pytest.raises(ConnectionRejected) as refused:
                async with open_websocket_url(url):
                    pass
        # both closed: a new connection is let in once the server has seen them go
        with trio.fail_after(10):
            while True:
                try:
                    async with open_websocket_url(url):
                        break
                except ConnectionRejected:
                    await trio.sleep(0.05)
    assert refused.value.status_code == 503
    body = json.loads(refused.value.body)
    assert body["error"] == "TOO_MANY_CONNECTIONS"
    assert "api.max_connections" in body["message"]


async def test_a_stalled_client_is_cut_off_while_another_keeps_receiving(tmp_path: Path) -> None:
    """The stalled client reads nothing (trio-websocket stops reading the socket when its own
    queue of 0 is full), so the kernel buffers fill, then its feed queue of 4; it is closed as
    too slow. The other client reads every message, in lockstep with the publishing."""
    padding = "x" * (64 * 1024)
    messages = 400  # 25 MiB: more than loopback's socket buffers hold
    async with serving(tmp_path, feed_queue_size=4) as api:
        url = f"{api.ws_url}?api_key={KEYS['viewer']}"
        feed = api.engine.services.feed
        async with (
            open_websocket_url(url, message_queue_size=0) as stalled,
            open_websocket_url(url) as reader,
        ):
            with trio.fail_after(60):
                for number in range(messages):
                    feed.publish(json.dumps({"Type": "Test", "n": number, "pad": padding}))
                    assert json.loads(await reader.get_message())["n"] == number
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await stalled.get_message()
    assert closed.value.reason.code == 1008
    assert "too slow" in closed.value.reason.reason
