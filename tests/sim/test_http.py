"""The simulator's HTTP endpoints, with httpx against a running simulator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import attrs
import httpx
import trio

from sor_daemon.sim.orders import NewOrderRequest
from sor_daemon.sim.service import SimulatorHandle, serve_simulator
from sor_daemon.sim.settings import SimulatorSettings, default_market

from .conftest import StartSimulator

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
ORDER_FIELDS = {
    "id",
    "client_order_id_format_exchange",
    "exchange_order_id",
    "amount_open",
    "amount_filled",
    "status",
    "status_history",
    "error_message",
    "fills",
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


def resting_order(client_order_id: str, price: str, quantity: str) -> NewOrderRequest:
    return NewOrderRequest(
        client_order_id=client_order_id,
        exchange="KRAKEN",
        security_id="XBT/USD",
        security_id_source="8",
        symbol="XBT/USD",
        ord_type="2",
        side="1",
        price=price,
        quantity=quantity,
        time_in_force="1",
        expire_time=None,
    )


async def test_balances_are_grouped_by_venue_with_coinapis_fields(
    simulator: SimulatorHandle,
) -> None:
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        every = (await http.get("/v1/balances")).json()
        kraken = (await http.get("/v1/balances", params={"exchange_id": "KRAKEN"})).json()
    assert {group["exchange_id"] for group in every} == {"DERIBIT", "BINANCE", "COINBASE", "KRAKEN"}
    (group,) = kraken
    assets = {element["asset_id_exchange"]: element for element in group["data"]}
    assert set(assets) == {"BTC", "ETH", "USD"}
    assert assets["USD"] == {
        "id": "USD",
        "asset_id_exchange": "USD",
        "asset_id_coinapi": "USD",
        "balance": 10_000_000,
        "available": 10_000_000,
        "locked": 0,
        "traded": 0,
        "last_updated_by": "EXCHANGE",
        "rate_usd": 1,
    }
    assert assets["BTC"]["rate_usd"] > 1000 and assets["BTC"]["balance"] == 100


async def test_open_orders_carry_every_field_of_the_ems_order(simulator: SimulatorHandle) -> None:
    simulator.exchange.submit(resting_order("H1", "1000.5", "0.25"), datetime.now(UTC))
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        open_orders = (await http.get("/v1/orders")).json()
        on_deribit = (await http.get("/v1/orders", params={"exchange_id": "DERIBIT"})).json()
        status = await http.get("/v1/orders/status/H1")
        missing = await http.get("/v1/orders/status/NOPE")
        balances = (await http.get("/v1/balances", params={"exchange_id": "KRAKEN"})).json()
    (order,) = open_orders
    assert set(order) == ORDER_FIELDS
    assert on_deribit == []
    assert {key: order[key] for key in ("id", "client_order_id", "exchange_id", "status")} == {
        "id": "H1",
        "client_order_id": "H1",
        "exchange_id": "KRAKEN",
        "status": "NEW",
    }
    assert (order["symbol_id_exchange"], order["symbol_id_coinapi"]) == (
        "XBT/USD",
        "KRAKEN_SPOT_BTC_USD",
    )
    assert (order["amount_order"], order["amount_open"], order["amount_filled"]) == (0.25, 0.25, 0)
    assert (order["price"], order["avg_px"], order["side"]) == (1000.5, 0, "BUY")
    assert (order["order_type"], order["time_in_force"]) == ("LIMIT", "GOOD_TILL_CANCEL")
    assert (order["expire_time"], order["exec_inst"], order["fills"]) == (None, [], [])
    assert [status for status, _ in order["status_history"]] == [
        "RECEIVED",
        "ROUTING",
        "ROUTED",
        "NEW",
    ]
    assert all(ISO.match(moment) for _, moment in order["status_history"])
    assert status.status_code == 200 and status.json() == order
    assert missing.status_code == 404 and "unknown order" in missing.json()["error"]
    (usd,) = [e for e in balances[0]["data"] if e["asset_id_exchange"] == "USD"]
    assert (usd["locked"], usd["available"]) == (250.125, 10_000_000 - 250.125)


async def test_positions_and_executions_after_a_fill(start_simulator: StartSimulator) -> None:
    # a market that does not step during the test, so the book read is the book matched
    still = attrs.evolve(default_market(), step=timedelta(hours=1))
    simulator = await start_simulator(market=still)
    book = simulator.exchange.book("BINANCEFTSC_PERP_BTC_USD")
    assert book is not None
    best = book.bids[0]
    simulator.exchange.submit(
        NewOrderRequest(
            client_order_id="P1",
            exchange="BINANCE",
            security_id="BINANCEFTSC_PERP_BTC_USD",
            security_id_source="101",
            symbol="BINANCEFTSC_PERP_BTC_USD",
            ord_type="2",
            side="2",
            price=str(best.price),
            quantity=str(best.size),
            time_in_force="3",
            expire_time=None,
        ),
        datetime.now(UTC),
    )
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        positions = (await http.get("/v1/positions")).json()
        executions = (await http.get("/v1/sim/executions")).json()
    (group,) = positions
    (position,) = group["data"]
    assert group["exchange_id"] == "BINANCE"
    assert set(position) == {
        "id",
        "symbol_id_exchange",
        "symbol_id_coinapi",
        "avg_entry_price",
        "quantity",
        "side",
        "unrealized_pnl",
        "leverage",
        "cross_margin",
        "liquidation_price",
        "raw_data",
    }
    assert (position["id"], position["symbol_id_coinapi"], position["side"]) == (
        "BTCUSD_PERP",
        "BINANCEFTSC_PERP_BTC_USD",
        "SELL",
    )
    assert position["quantity"] == float(best.size)
    assert position["avg_entry_price"] == float(best.price)
    assert isinstance(position["raw_data"], str)
    assert executions == {
        "P1": {
            "exchange_id": "BINANCE",
            "symbol_id_coinapi": "BINANCEFTSC_PERP_BTC_USD",
            "side": "SELL",
            "cum_qty": float(best.size),
            "avg_px": float(best.price),
            "status": "FILLED",
        }
    }


async def test_the_current_quote_in_coinapis_market_data_shape(simulator: SimulatorHandle) -> None:
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        quote = (await http.get("/v1/quotes/COINBASE_SPOT_ETH_USD/current")).json()
        unknown = await http.get("/v1/quotes/NOWHERE_SPOT_BTC_USD/current")
    assert set(quote) == {
        "symbol_id",
        "time_exchange",
        "time_coinapi",
        "ask_price",
        "ask_size",
        "bid_price",
        "bid_size",
    }
    assert quote["symbol_id"] == "COINBASE_SPOT_ETH_USD"
    assert 0 < quote["bid_price"] < quote["ask_price"]
    assert quote["bid_size"] > 0 and quote["ask_size"] > 0
    assert ISO.match(quote["time_exchange"])
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "unknown symbol NOWHERE_SPOT_BTC_USD"}


async def test_an_api_key_when_set_is_required(start_simulator: StartSimulator) -> None:
    simulator = await start_simulator(api_key="s3cret")
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        missing = await http.get("/v1/balances")
        wrong = await http.get("/v1/balances", headers={"X-CoinAPI-Key": "guess"})
        right = await http.get("/v1/balances", headers={"X-CoinAPI-Key": "s3cret"})
        faults = await http.get("/v1/sim/faults")
        change = await http.post("/v1/sim/faults", json={"duplicate_reports": True})
        disconnect = await http.post("/v1/sim/disconnect")
        keyed = await http.post("/v1/sim/disconnect", headers={"X-CoinAPI-Key": "s3cret"})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "missing API key" in missing.json()["error"]
    assert "wrong API key" in wrong.json()["error"]
    assert (faults.status_code, change.status_code, disconnect.status_code) == (401, 401, 401)
    assert simulator.faults.current().duplicate_reports is False
    assert keyed.json() == {"disconnected": 0}


async def test_fault_switches_start_as_set_and_change_over_http(
    start_simulator: StartSimulator,
) -> None:
    simulator = await start_simulator(poss_dup_reports=True, answer_status_requests=False)
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        initial = (await http.get("/v1/sim/faults")).json()
        changed = await http.post(
            "/v1/sim/faults", json={"duplicate_reports": True, "poss_dup_reports": False}
        )
        now = (await http.get("/v1/sim/faults")).json()
        unchanged = await http.post("/v1/sim/faults", json={})
    assert initial == {
        "duplicate_reports": False,
        "poss_dup_reports": True,
        "answer_status_requests": False,
        "market_data_frozen": False,
        "ohlcv_throttle": 0,
    }
    expected = {
        "duplicate_reports": True,
        "poss_dup_reports": False,
        "answer_status_requests": False,
        "market_data_frozen": False,
        "ohlcv_throttle": 0,
    }
    assert (changed.status_code, changed.json(), now) == (200, expected, expected)
    assert unchanged.json() == expected
    assert simulator.faults.current().as_json() == expected


async def test_a_bad_fault_change_gets_400_and_changes_nothing(
    simulator: SimulatorHandle,
) -> None:
    bad_bodies = {
        "unknown": {"json": {"duplicate_reports": True, "drop_fills": True}},
        "number": {"json": {"duplicate_reports": True, "poss_dup_reports": 1}},
        "string": {"json": {"answer_status_requests": "false"}},
        "null": {"json": {"duplicate_reports": None}},
        "list": {"json": ["duplicate_reports"]},
        "not json": {"content": b"duplicate_reports=true"},
        "empty": {"content": b""},
    }
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        before = (await http.get("/v1/sim/faults")).json()
        answers = {
            name: await http.post("/v1/sim/faults", **body) for name, body in bad_bodies.items()
        }
        after = (await http.get("/v1/sim/faults")).json()
        wrong_method = await http.put("/v1/sim/faults", json={})
    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(
        bad_bodies, 400
    )
    errors = {name: answer.json() for name, answer in answers.items()}
    assert all(set(error) == {"error", "message"} for error in errors.values())
    assert errors["unknown"]["error"] == "INVALID_PARAMETER"
    assert "unknown fault switch drop_fills" in errors["unknown"]["message"]
    assert "poss_dup_reports must be true or false" in errors["number"]["message"]
    assert "answer_status_requests must be true or false" in errors["string"]["message"]
    assert errors["list"]["error"] == "INVALID_PARAMETER"
    assert (errors["not json"]["error"], errors["empty"]["error"]) == ("JSON_ERROR", "JSON_ERROR")
    assert after == before == simulator.faults.current().as_json()
    assert wrong_method.status_code == 405


async def test_stop_shuts_the_simulator_down_in_order(sim_settings: SimulatorSettings) -> None:
    async with trio.open_nursery() as nursery:
        handle: SimulatorHandle = await nursery.start(serve_simulator, sim_settings)
        handle.stop()
    with trio.fail_after(5):
        async with httpx.AsyncClient(base_url=handle.http_url) as http:
            try:
                await http.get("/v1/balances")
            except httpx.ConnectError:
                return
    raise AssertionError("the HTTP server still answers after stop")
