"""TWAP orders through the real daemon, over real FIX to the bundled simulator, seen by real
WebSocket and HTTP clients."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from tests.integration.feed_client import FeedClient, is_final, new_order
from tests.support.processes import DaemonProcess

LIMIT = 60
FILL_KEYS = {
    "OrderId",
    "Exchange",
    "SymbolId",
    "AmountFilled",
    "Price",
    "Side",
    "Status",
    "TimeStamp",
}
TRADE_REQUEST_KEYS = {
    "type",
    "exchange_id",
    "client_order_id",
    "symbol_id_exchange",
    "symbol_id_coinapi",
    "amount_order",
    "price",
    "avg_px",
    "side",
    "order_type",
    "time_in_force",
    "expire_time",
    "exec_inst",
}
VIEW_KEYS = {
    "id",
    "status",
    "statusInfo",
    "symbol",
    "amount",
    "algorithm",
    "side",
    "duration",
    "interval",
    "exchanges",
    "statusHistory",
    "parametersUpdates",
    "fills",
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def executions(daemon: DaemonProcess) -> dict[str, dict]:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{daemon.sim_url}/v1/sim/executions")).json()


async def view(daemon: DaemonProcess, order_id: str) -> dict:
    async with httpx.AsyncClient() as client:
        views = (await client.get(f"{daemon.api_url}/v1/sor/requests")).json()
    [found] = [v for v in views if v["id"] == order_id]
    return found


async def test_a_short_twap_completes_with_messages_in_the_seed_shapes(
    daemon: DaemonProcess,
) -> None:
    order_id = unique("twap")
    with trio.fail_after(LIMIT):
        async with open_websocket_url(daemon.ws_url) as connection:
            feed = FeedClient(connection)
            await feed.send(new_order(order_id, "5", "4SEC", "1SEC", side="sell"))
            messages = await feed.collect(order_id, is_final)
    first, last = messages[0], messages[-1]
    assert first["Type"] == "StatusChange"
    assert first["Data"] == {
        "Id": order_id,
        "TotalFilled": 0,
        "FillsCount": 0,
        "Status": "Running",
        "Fills": [],
    }
    requests = [m for m in messages if m["Type"] == "TradeRequest"]
    fills = [m for m in messages if m["Type"] == "TradeFill"]
    assert len(requests) == 5
    for request in requests:
        assert set(request) == {"Type", "CompositeId", "Data"}
        assert set(request["Data"]) == TRADE_REQUEST_KEYS
        assert request["Data"]["type"] == "ORDER_NEW_SINGLE_REQUEST"
        assert request["Data"]["time_in_force"] == "IMMEDIATE_OR_CANCEL"
        assert request["Data"]["side"] == "SELL"
        assert request["Data"]["symbol_id_coinapi"] == "DERIBIT_PERP_BTC_USD"
        assert request["Data"]["symbol_id_exchange"] == "BTC-PERPETUAL"
    for fill in fills:
        assert set(fill["Data"]) == FILL_KEYS
        assert fill["Data"]["Side"] == "Sell"
    assert last["Data"]["Status"] == "Completed"
    assert last["Data"]["TotalFilled"] == 5
    assert last["Data"]["FillsCount"] == len(last["Data"]["Fills"]) == len(fills)
    assert sum(Decimal(str(f["Data"]["AmountFilled"])) for f in fills) == 5

    ledger = await executions(daemon)
    children = {r["Data"]["client_order_id"] for r in requests}
    assert {child for child in ledger if child.startswith(order_id)} == children
    assert sum(Decimal(str(ledger[c]["cum_qty"])) for c in children) == 5

    shown = await view(daemon, order_id)
    assert set(shown) == VIEW_KEYS | {"executionQuality", "market"}  # the seed's keys, plus ours
    assert all(sample["mid"] > 0 for sample in shown["market"])  # the mid each slice saw
    assert shown["executionQuality"]["averagePrice"] > 0
    assert shown["status"] == "Completed" and shown["side"] == "Sell"
    assert shown["amount"] == 5 and shown["duration"] == "4SEC" and shown["interval"] == "1SEC"
    assert list(shown["statusHistory"]) == ["Running", "Completed"]
    for stamp in shown["statusHistory"].values():
        assert len(stamp) == 19 and stamp[2] == "/" and stamp[5] == "/" and stamp[10] == " "
    assert sum(Decimal(str(f["amountFilled"])) for f in shown["fills"]) == 5
    assert all(f["timeStamp"].endswith("Z") and len(f["timeStamp"]) == 28 for f in shown["fills"])


async def test_a_cancel_mid_way_ends_cancelled_with_fewer_fills(daemon: DaemonProcess) -> None:
    order_id = unique("cancel")
    with trio.fail_after(LIMIT):
        async with open_websocket_url(daemon.ws_url) as connection:
            feed = FeedClient(connection)
            await feed.send(new_order(order_id, "10", "20SEC", "1SEC"))
            await feed.collect(order_id, lambda m: m["Type"] == "TradeFill")
            await feed.send({"Type": "cancel", "Id": order_id})
            messages = await feed.collect(order_id, is_final)
    final = messages[-1]["Data"]
    assert final["Status"] == "Cancelled"
    assert final["StatusInfo"] == "User requested cancel"
    assert 0 < final["TotalFilled"] < 10
    shown = await view(daemon, order_id)
    assert shown["status"] == "Cancelled"
    assert shown["statusInfo"] == "User requested cancel"
    ledger = await executions(daemon)
    executed = sum(Decimal(str(e["cum_qty"])) for c, e in ledger.items() if c.startswith(order_id))
    assert executed == Decimal(str(final["TotalFilled"]))


async def test_an_update_over_rest_changes_the_remaining_plan(daemon: DaemonProcess) -> None:
    order_id = unique("update")
    with trio.fail_after(LIMIT):
        async with open_websocket_url(daemon.ws_url) as connection, httpx.AsyncClient() as http:
            feed = FeedClient(connection)
            await feed.send(new_order(order_id, "7", "6SEC", "1SEC"))
            await feed.collect(order_id, lambda m: m["Type"] == "TradeFill")
            response = await http.put(
                f"{daemon.api_url}/v1/sor/update",
                json={"Id": order_id, "Parameters": {"amount": "14", "duration": "8SEC"}},
            )
            assert response.status_code == 200, response.text
            messages = await feed.collect(order_id, is_final)
    assert messages[-1]["Data"]["Status"] == "Completed"
    assert messages[-1]["Data"]["TotalFilled"] == 14
    shown = await view(daemon, order_id)
    [(stamp, parameters)] = shown["parametersUpdates"].items()
    assert stamp.endswith("Z")
    assert parameters == {
        "side": "buy",
        "symbol": "BTC-USD",
        "symbol_type": "perpetual",
        "amount": "14",
        "duration": "8SEC",
        "interval": "1SEC",
    }
    assert shown["amount"] == 14 and shown["duration"] == "8SEC"


async def test_rest_add_cancel_and_the_account_views(daemon: DaemonProcess) -> None:
    body = {
        "Algorithm": "TWAP",
        "Exchanges": ["DERIBIT"],
        "Parameters": {
            "side": "sell",
            "symbol": "BTC-USD",
            "symbol_type": "perpetual",
            "amount": "29",
            "duration": "1MIN",
            "interval": "5SEC",
        },
    }
    async with httpx.AsyncClient(base_url=f"{daemon.api_url}/v1/sor") as http:
        added = await http.post("/add", json=body)
        assert added.status_code == 200, added.text
        answer = added.json()
        assert set(answer) == {"type", "id", "exchanges", "algorithm", "parameters"}
        assert answer["type"] == "New" and answer["algorithm"] == "TWAP"
        assert answer["parameters"] == body["Parameters"]
        cancelled = await http.post(f"/cancel/{answer['id']}")
        assert cancelled.status_code == 200, cancelled.text
        again = await http.post(f"/cancel/{answer['id']}")
        assert again.status_code == 400 and "already Cancelled" in again.json()["message"]
        missing = await http.post("/cancel/no-such-order")
        assert missing.status_code == 404 and missing.json()["error"] == "ORDER_ID_NOT_FOUND"

        balances = (await http.get("/balances")).json()
        assert {"DERIBIT", "BINANCE", "COINBASE", "KRAKEN"} <= set(balances)
        for entry in balances["DERIBIT"]:
            assert set(entry) == {
                "id",
                "asset_id_exchange",
                "asset_id_coinapi",
                "balance",
                "available",
                "locked",
                "traded",
                "last_updated_by",
                "rate_usd",
            }
        positions = (await http.get("/positions")).json()
        assert isinstance(positions, dict)
        for entries in positions.values():
            for entry in entries:
                assert {
                    "symbol_id_exchange",
                    "symbol_id_coinapi",
                    "avg_entry_price",
                    "quantity",
                    "side",
                } <= set(entry)
        orders = await http.get("/orders")
        assert orders.status_code == 200 and isinstance(orders.json(), dict)
        listed = (await http.get("/requests")).json()
        assert answer["id"] in {v["id"] for v in listed}


BAD_MESSAGES = [
    ("{not json", "JSON_ERROR"),
    ("[1, 2]", "JSON_ERROR"),
    (json.dumps({"type": "Explode"}), "INVALID_TYPE"),
    (json.dumps({"amount": 1}), "INVALID_TYPE"),
    (
        json.dumps({"type": "New", "Algorithm": "TWAP", "Exchanges": ["DERIBIT"]}),
        "INVALID_PARAMETER",
    ),
    (json.dumps(new_order("bad-amount", "0", "4SEC", "1SEC")), "INVALID_PARAMETER"),
    (
        json.dumps({**new_order("bad-algo", "1", "4SEC", "1SEC"), "algorithm": "MOON"}),
        "INVALID_PARAMETER",
    ),
    (
        json.dumps(new_order("bad-exchange", "1", "4SEC", "1SEC", exchange="NOWHERE")),
        "INVALID_PARAMETER",
    ),
    (json.dumps(new_order("bad-interval", "1", "4SEC", "1MIN")), "INVALID_PARAMETER"),
    (json.dumps(new_order("bad-increment", "1.05", "4SEC", "1SEC")), "INVALID_PARAMETER"),
    (json.dumps({"type": "Cancel", "id": "never-was"}), "ORDER_ID_NOT_FOUND"),
    (
        json.dumps({"type": "ParamChange", "id": "never-was", "parameters": {"amount": 2}}),
        "ORDER_ID_NOT_FOUND",
    ),
]


async def test_a_burst_of_bad_messages_is_rejected_and_trading_goes_on(
    daemon: DaemonProcess,
) -> None:
    before = await executions(daemon)
    with trio.fail_after(LIMIT):
        async with open_websocket_url(daemon.ws_url) as connection:
            feed = FeedClient(connection)
            for raw, _ in BAD_MESSAGES:
                await feed.send(raw)
            rejects = []
            while len(rejects) < len(BAD_MESSAGES):
                message = await feed.receive()
                if message["Type"] == "Reject":
                    rejects.append(message)
            for (raw, reason), reject in zip(BAD_MESSAGES, rejects, strict=True):
                assert reject["Data"]["RejectReason"] == reason, reject
                assert reject["Data"]["RejectMessage"]
                assert reject["Data"]["RejectedMessage"] == raw
            assert await executions(daemon) == before
            order_id = unique("after-burst")
            await feed.send(new_order(order_id, "2", "2SEC", "1SEC"))
            messages = await feed.collect(order_id, is_final)
    assert messages[-1]["Data"]["Status"] == "Completed"
    async with httpx.AsyncClient(base_url=f"{daemon.api_url}/v1/sor") as http:
        ids = {v["id"] for v in (await http.get("/requests")).json()}
        assert not ids & {"bad-amount", "bad-algo", "bad-exchange", "bad-interval", "bad-increment"}
        bad_json = await http.post("/add", content=b"{oops")
        assert bad_json.status_code == 400 and bad_json.json()["error"] == "JSON_ERROR"
        bad_update = await http.put("/update", json={"Id": "x", "Parameters": {}})
        assert bad_update.status_code == 400 and bad_update.json()["message"]


@pytest.mark.parametrize("path", ["/v1/sor/requests", "/v1/sor/balances", "/health"])
async def test_every_get_answers_json(daemon: DaemonProcess, path: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{daemon.api_url}{path}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
