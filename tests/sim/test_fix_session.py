"""The simulator over real FIX on loopback, driven by a quickfix initiator as the daemon would."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest

from sor_daemon.sim.acceptor import AcceptorStartError
from sor_daemon.sim.fixcodec import format_timestamp
from sor_daemon.sim.service import SimulatorHandle

from .conftest import StartSimulator
from .fix_client import Fields, FixClient, connect, new_id

BTC_PERP = "DERIBIT_PERP_BTC_USD"


async def current_quote(handle: SimulatorHandle, symbol_id: str) -> dict:
    async with httpx.AsyncClient(base_url=handle.http_url) as http:
        response = await http.get(f"/v1/quotes/{symbol_id}/current")
        response.raise_for_status()
        return response.json()


def send_order(
    client: FixClient,
    client_order_id: str,
    *,
    price: D | str,
    quantity: D | str,
    exchange: str = "DERIBIT",
    symbol: str = BTC_PERP,
    side: str = "1",
    time_in_force: str = "3",
    extra: tuple[tuple[int, str], ...] = (),
) -> None:
    client.send(
        "D",
        [
            (11, client_order_id),
            (583, client_order_id),
            (100, exchange),
            (48, symbol),
            (55, symbol),
            (22, "101"),
            (60, format_timestamp(datetime.now(UTC))),
            (40, "2"),
            (54, side),
            (44, str(price)),
            (38, str(quantity)),
            (59, time_in_force),
            *extra,
        ],
    )


def send_cancel(client: FixClient, request_id: str, original: str, exchange: str = "DERIBIT"):
    client.send(
        "F",
        [
            (11, request_id),
            (41, original),
            (207, exchange),
            (54, "1"),
            (55, BTC_PERP),
            (60, format_timestamp(datetime.now(UTC))),
        ],
    )


def send_status(client: FixClient, client_order_id: str) -> None:
    client.send("H", [(11, client_order_id), (54, "1"), (207, "DERIBIT")])


def far_below(quote: dict) -> D:
    """A buy price on every BTC grid that no book reaches during a test."""
    return D(int(quote["bid_price"] * 0.5))


async def test_an_ioc_order_reports_new_one_trade_per_level_and_the_canceled_rest(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    quote = await current_quote(simulator, BTC_PERP)
    limit = D(int(quote["ask_price"] * 1.01))
    async with connect(simulator, tmp_path) as client:
        order_id = new_id()
        send_order(client, order_id, price=limit, quantity="500")
        new, *trades, canceled = await client.reports_until_done(order_id)

    assert (new[150], new[39], D(new[14]), D(new[151])) == ("0", "0", 0, 500)
    assert trades and all((t[150], t[39]) == ("F", "1") for t in trades)
    cum = notional = D(0)
    for trade in trades:
        last_qty, last_px = D(trade[32]), D(trade[31])
        assert last_qty > 0 and last_px <= limit
        cum += last_qty
        notional += last_qty * last_px
        assert (D(trade[14]), D(trade[151])) == (cum, 500 - cum)
        assert D(trade[6]) == (notional / cum).quantize(D("1e-10"))
    assert [D(t[31]) for t in trades] == sorted(D(t[31]) for t in trades)
    assert (canceled[150], canceled[39], D(canceled[14]), D(canceled[151])) == ("4", "4", cum, 0)
    assert "immediate-or-cancel" in canceled[58]
    every = [new, *trades, canceled]
    assert {(r[37], r[11], r[198], r[207], r[48], r[22], r[55]) for r in every} == {
        (order_id, order_id, new[198], "DERIBIT", BTC_PERP, "101", BTC_PERP)
    }
    assert {(r[54], r[38], r[40], r[44], r[59]) for r in every} == {
        ("1", "500", "2", str(limit), "3")
    }
    assert len({r[17] for r in every}) == len(every)

    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        executions = (await http.get("/v1/sim/executions")).json()
        positions = (await http.get("/v1/positions", params={"exchange_id": "DERIBIT"})).json()
    assert executions[order_id]["status"] == "CANCELED"
    assert D(str(executions[order_id]["cum_qty"])) == cum
    (deribit,) = positions
    (position,) = deribit["data"]
    assert (position["symbol_id_coinapi"], position["side"]) == (BTC_PERP, "BUY")
    assert D(str(position["quantity"])) == cum


async def test_lean_reports_leave_out_last_qty_last_px_and_avg_px(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    simulator = await start_simulator(lean_reports=True)
    quote = await current_quote(simulator, BTC_PERP)
    async with connect(simulator, tmp_path) as client:
        order_id = new_id()
        send_order(client, order_id, price=int(quote["ask_price"] * 1.01), quantity="2")
        reports = await client.reports_until_done(order_id)
    assert reports[0][150] == "0" and reports[-1][39] in ("2", "4")
    assert all(not {6, 31, 32} & r.keys() for r in reports)
    cum_qtys = [D(r[14]) for r in reports]
    assert cum_qtys == sorted(cum_qtys) and cum_qtys[-1] > 0


async def test_an_invalid_order_is_rejected_with_a_reason_and_a_sentence(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    async with connect(simulator, tmp_path) as client:
        order_id = new_id()
        send_order(client, order_id, price="60000", quantity="0.15")
        (rejected,) = await client.reports_until_done(order_id)
    assert (rejected[150], rejected[39], rejected[103]) == ("8", "8", "13")
    assert "size increment" in rejected[58]
    assert (D(rejected[14]), D(rejected[151])) == (0, 0)


async def test_cancel_and_status_of_a_resting_gtc_order(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    price = far_below(await current_quote(simulator, BTC_PERP))
    async with connect(simulator, tmp_path) as client:
        order_id = new_id()
        send_order(client, order_id, price=price, quantity="1.5", time_in_force="1")
        new = await client.expect("8")
        assert (new[150], new[39], new[151]) == ("0", "0", "1.5")

        send_status(client, order_id)
        status = await client.expect("8")
        assert (status[150], status[39], status[37], status[198]) == ("I", "0", order_id, new[198])

        cancel_id = new_id("X")
        send_cancel(client, cancel_id, order_id)
        canceled = await client.expect("8")
        assert (canceled[150], canceled[39], canceled[11], canceled[41], canceled[37]) == (
            "4",
            "4",
            cancel_id,
            order_id,
            order_id,
        )
        assert (canceled[14], canceled[151]) == ("0", "0")

        send_cancel(client, new_id("X"), order_id)
        too_late = await client.expect("9")
        assert (too_late[434], too_late[102], too_late[39], too_late[41]) == (
            "1",
            "0",
            "4",
            order_id,
        )
        send_cancel(client, new_id("X"), "NO-SUCH-ORDER")
        unknown = await client.expect("9")
        assert (unknown[102], unknown[39]) == ("1", "8")
        assert "unknown order" in unknown[58]

        send_status(client, order_id)
        status = await client.expect("8")
        assert (status[150], status[39]) == ("I", "4")
        send_status(client, "NO-SUCH-ORDER")
        status = await client.expect("8")
        assert (status[150], status[39], status[58], status[37]) == (
            "I",
            "8",
            "unknown order",
            "NO-SUCH-ORDER",
        )


async def test_mass_cancel_cancels_one_venues_resting_orders(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    btc = far_below(await current_quote(simulator, BTC_PERP))
    eth = far_below(await current_quote(simulator, "BINANCE_SPOT_ETH_USDT"))
    async with connect(simulator, tmp_path) as client:
        deribit_orders = [new_id(), new_id()]
        for order_id in deribit_orders:
            send_order(client, order_id, price=btc, quantity="1", time_in_force="1")
            assert (await client.expect("8"))[39] == "0"
        binance_order = new_id()
        send_order(
            client,
            binance_order,
            price=eth,
            quantity="1",
            time_in_force="1",
            exchange="BINANCE",
            symbol="BINANCE_SPOT_ETH_USDT",
        )
        assert (await client.expect("8"))[39] == "0"

        mass_id = new_id("MC")
        client.send(
            "q",
            [
                (11, mass_id),
                (530, "7"),
                (207, "DERIBIT"),
                (60, format_timestamp(datetime.now(UTC))),
            ],
        )
        canceled = [await client.expect("8"), await client.expect("8")]
        report = await client.expect("r")

    assert sorted(r[37] for r in canceled) == sorted(deribit_orders)
    assert {(r[150], r[39], r[11]) for r in canceled} == {("4", "4", mass_id)}
    assert (report[11], report[530], report[531], report[533]) == (mass_id, "7", "7", "2")
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        open_orders = (await http.get("/v1/orders")).json()
    assert [order["client_order_id"] for order in open_orders] == [binance_order]


async def test_a_gtd_order_expires_over_fix_without_other_traffic(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    price = far_below(await current_quote(simulator, BTC_PERP))
    expire = datetime.now(UTC) + timedelta(seconds=1)
    async with connect(simulator, tmp_path) as client:
        order_id = new_id()
        send_order(
            client,
            order_id,
            price=price,
            quantity="1",
            time_in_force="6",
            extra=((126, format_timestamp(expire)),),
        )
        new, expired = await client.reports_until_done(order_id)
    assert (new[150], expired[150], expired[39], expired[151]) == ("0", "C", "C", "0")


async def test_status_requests_are_ignored_when_the_fault_mode_says_so(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    simulator = await start_simulator(answer_status_requests=False)
    async with connect(simulator, tmp_path) as client:
        send_status(client, "NO-SUCH-ORDER")
        send_cancel(client, new_id("X"), "NO-SUCH-ORDER")
        answer: Fields = await client.receive()
    assert answer[35] == "9"


async def test_an_unsupported_message_gets_a_business_message_reject(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    async with connect(simulator, tmp_path) as client:
        client.send("AF", [(584, new_id("MS")), (585, "7")])
        reject = await client.expect("j")
    assert (reject[372], reject[380]) == ("AF", "3")


async def test_a_port_in_use_fails_the_start_and_leaves_no_session_behind(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(AcceptorStartError, match="Address already in use"):
            await start_simulator(fix_port=taken.getsockname()[1])
    simulator = await start_simulator()
    async with connect(simulator, tmp_path) as client:
        send_status(client, "NO-SUCH-ORDER")
        assert (await client.expect("8"))[39] == "8"
