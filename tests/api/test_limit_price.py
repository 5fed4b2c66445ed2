"""A limit price over the served API: sent in a WebSocket ``New`` (in camelCase), shown on
``GET /requests`` and in the feed's ``StatusInfo`` while the order waits, moved by ``PUT
/update``, and refused with a sentence (nothing changed) when it is not a price."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from tests.api.conftest import KEYS, headers, new_order, serving

WAITING = "waiting: the market is beyond the limit price 60000"


async def next_of(ws: WebSocketConnection, kind: str) -> dict[str, Any]:
    """The next feed message of type ``kind``."""
    while (message := json.loads(await ws.get_message()))["Type"] != kind:
        pass
    return message


async def test_a_limit_price_round_trips_through_the_feed_and_rest(tmp_path: Path) -> None:
    desk = headers("desk-1")
    order = new_order()
    order["Parameters"]["limitPrice"] = "60000"  # the paper market offers at 66371
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        feed = [(b"x-api-key", KEYS["desk-1"].encode())]
        async with open_websocket_url(api.ws_url, extra_headers=feed) as ws:
            await ws.send_message(json.dumps({"type": "New", "id": "limited", **order}))
            with trio.fail_after(10):
                while (await next_of(ws, "StatusChange"))["Data"].get("StatusInfo") != WAITING:
                    pass

            await ws.send_message(
                json.dumps(
                    {"type": "ParamChange", "id": "limited", "parameters": {"limitPrice": 0}}
                )
            )
            reject = await next_of(ws, "Reject")
            assert reject["Data"]["RejectReason"] == "INVALID_PARAMETER"
            assert reject["Data"]["RejectMessage"] == "limit_price must be greater than 0, got 0"

        [view] = (await http.get("/v1/sor/requests", headers=desk)).json()
        assert (view["limitPrice"], view["statusInfo"]) == (60000, WAITING)
        assert view["parametersUpdates"] == {}

        bad = await http.put(
            "/v1/sor/update",
            json={"Id": "limited", "Parameters": {"limit_price": "-1"}},
            headers=desk,
        )
        assert bad.status_code == 400
        assert bad.json()["message"] == "limit_price must be greater than 0, got '-1'"

        moved = await http.put(
            "/v1/sor/update",
            json={"Id": "limited", "Parameters": {"limit_price": "60500.50"}},
            headers=desk,
        )
        assert moved.status_code == 200
        assert moved.json()["limitPrice"] == 60500.5
        [parameters] = moved.json()["parametersUpdates"].values()
        assert parameters["limit_price"] == "60500.5"
        assert parameters["amount"] == "1"
        assert str(api.engine.get("limited").params.limit_price) == "60500.50"


async def test_post_add_echoes_the_limit_price_with_the_other_parameters(tmp_path: Path) -> None:
    body = new_order()
    body["Parameters"]["limit_price"] = "70000"
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        answer = await http.post("/v1/sor/add", json=body, headers=headers("desk-1"))
    assert answer.status_code == 200
    assert answer.json()["parameters"]["limit_price"] == "70000"
