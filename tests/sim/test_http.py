"""The simulator's HTTP endpoints, with httpx against a running simulator."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import trio

from sor_daemon.sim.orders import NewOrderRequest
from sor_daemon.sim.service import SimulatorHandle, serve_simulator
from sor_daemon.sim.settings import SimulatorSettings

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


async def test_positions_and_executions_after_a_fill(simulator: SimulatorHandle) -> None:
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
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "missing API key" in missing.json()["error"]
    assert "wrong API key" in wrong.json()["error"]


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
