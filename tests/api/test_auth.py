"""API keys over REST and the WebSocket: no key, a wrong key and every role, presented as
Bearer, X-API-Key and (WebSocket only) ?api_key=; and traders kept to their own orders."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from trio_websocket import ConnectionRejected, open_websocket_url

from tests.api.conftest import KEYS, headers, new_order, serving, ws_new

REST_MATRIX = [
    # (key, method, path, status)
    (None, "GET", "/health", 200),
    (None, "GET", "/v1/sor/requests", 401),
    ("intruder", "GET", "/v1/sor/requests", 401),
    ("viewer", "GET", "/v1/sor/requests", 200),
    ("viewer", "GET", "/v1/sor/balances", 200),
    ("viewer", "POST", "/v1/sor/add", 403),
    ("viewer", "POST", "/v1/sor/halt", 403),
    ("desk-1", "GET", "/v1/sor/requests", 200),
    ("desk-1", "POST", "/v1/sor/add", 200),
    ("desk-1", "POST", "/v1/sor/halt", 403),
    ("desk-1", "POST", "/v1/sor/resume", 403),
    ("ops", "POST", "/v1/sor/add", 200),
    (None, "GET", "/metrics", 401),
    ("desk-1", "GET", "/v1/sor/not-a-route", 403),
]


@pytest.mark.parametrize("how", ["bearer", "x-api-key"])
async def test_rest_answers_each_key_as_the_policy_says(tmp_path: Path, how: str) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        for key, method, path, status in REST_MATRIX:
            body = new_order() if path.endswith("/add") else None
            response = await http.request(method, path, json=body, headers=headers(key, how))
            assert response.status_code == status, (key, method, path, response.text)
            if status in (401, 403):
                error = response.json()
                assert error["error"] == ("UNAUTHORIZED" if status == 401 else "FORBIDDEN")
                assert error["message"]


async def test_an_admin_may_halt_and_resume(tmp_path: Path) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        for path in ("/v1/sor/halt", "/v1/sor/resume"):
            response = await http.post(path, headers=headers("ops"))
            assert response.status_code == 200, response.text


async def test_the_query_parameter_is_not_read_over_rest(tmp_path: Path) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        response = await http.get("/v1/sor/requests", params={"api_key": KEYS["ops"]})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("key", "status"), [(None, 401), ("intruder", 401)], ids=["no key", "wrong key"]
)
async def test_a_websocket_without_a_valid_key_is_refused_at_the_handshake(
    tmp_path: Path, key: str | None, status: int
) -> None:
    async with serving(tmp_path) as api:
        url = api.ws_url if key is None else f"{api.ws_url}?api_key={key}"
        with pytest.raises(ConnectionRejected) as refused:
            async with open_websocket_url(url):
                pass
    assert refused.value.status_code == status
    assert json.loads(refused.value.body)["error"] == "UNAUTHORIZED"


@pytest.mark.parametrize("how", ["bearer", "x-api-key", "query"])
async def test_every_role_may_open_the_feed_by_any_means(tmp_path: Path, how: str) -> None:
    async with serving(tmp_path) as api:
        for name in ("viewer", "desk-1", "ops"):
            url, extra = api.ws_url, []
            if how == "query":
                url = f"{api.ws_url}?api_key={KEYS[name]}"
            else:
                extra = [(k.lower().encode(), v.encode()) for k, v in headers(name, how).items()]
            async with open_websocket_url(url, extra_headers=extra) as ws:
                await ws.send_message(ws_new())
                message = json.loads(await ws.get_message())
                expected = "Reject" if name == "viewer" else "StatusChange"
                assert message["Type"] == expected, message
                if name == "viewer":
                    assert message["Data"]["RejectReason"] == "FORBIDDEN"


async def test_without_keys_on_loopback_everyone_is_admin(tmp_path: Path) -> None:
    async with serving(tmp_path, keys=[]) as api, httpx.AsyncClient(base_url=api.url) as http:
        added = await http.post("/v1/sor/add", json=new_order())
        assert added.status_code == 200, added.text
        assert (await http.post("/v1/sor/halt")).status_code == 200
        async with open_websocket_url(api.ws_url):
            pass
    [order] = api.engine.live_orders()
    assert order.origin == "api"


async def test_a_trader_sees_and_commands_only_its_own_orders(tmp_path: Path) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        desk_2_feed = [(b"x-api-key", KEYS["desk-2"].encode())]
        async with open_websocket_url(api.ws_url, extra_headers=desk_2_feed) as ws:
            theirs = await http.post("/v1/sor/add", json=new_order(), headers=headers("desk-1"))
            their_id = theirs.json()["id"]
            await ws.send_message(ws_new(id="desk-2-order"))
            first = json.loads(await ws.get_message())
            assert (first["Type"], first["CompositeId"]) == ("StatusChange", "desk-2-order")

            await ws.send_message(json.dumps({"type": "Cancel", "id": their_id}))
            reject = json.loads(await ws.get_message())
            assert reject["Type"] == "Reject"
            assert reject["Data"]["RejectReason"] == "FORBIDDEN"

        as_desk_2 = headers("desk-2")
        listed = (await http.get("/v1/sor/requests", headers=as_desk_2)).json()
        assert [order["id"] for order in listed] == ["desk-2-order"]
        cancel = await http.post(f"/v1/sor/cancel/{their_id}", headers=as_desk_2)
        assert cancel.status_code == 403
        assert "another API key" in cancel.json()["message"]
        update = await http.put(
            "/v1/sor/update",
            json={"Id": their_id, "Parameters": {"amount": "2"}},
            headers=as_desk_2,
        )
        assert update.status_code == 403

        everything = (await http.get("/v1/sor/requests", headers=headers("viewer"))).json()
        assert {order["id"] for order in everything} == {their_id, "desk-2-order"}
        one = await http.get("/v1/sor/requests/desk-2-order", headers=as_desk_2)
        assert one.json()["id"] == "desk-2-order"
        not_theirs = await http.get(f"/v1/sor/requests/{their_id}", headers=as_desk_2)
        assert not_theirs.status_code == 403
        assert "may see only its own orders" in not_theirs.json()["message"]
        seen = await http.get(f"/v1/sor/requests/{their_id}", headers=headers("viewer"))
        assert seen.json()["id"] == their_id
        assert (await http.post(f"/v1/sor/cancel/{their_id}", headers=headers("ops"))).is_success
        assert api.engine.get(their_id).origin == "desk-1"
        assert api.engine.get("desk-2-order").origin == "desk-2"
