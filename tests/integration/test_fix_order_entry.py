"""FIX order entry through the real daemon: a quickfix initiator sends smart orders over FIX 4.4
to the daemon's acceptor and reads the parent-level ExecutionReports, which must add up to what
the embedded simulator executed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import quickfix as fix
import trio

from sor_daemon.fix.dialect import timestamp
from sor_daemon.fix.dictionary import write_order_entry_dictionary
from sor_daemon.sim.service import free_port
from tests.sim.fix_client import Fields, FixClient, open_session
from tests.support.processes import DaemonProcess, running_daemon

OURS, THEIRS = "SOR", "DESK1"
FINAL_STATUSES = ("2", "3", "4", "8")
SCHEDULE = {"Duration": "3SEC", "Interval": "1SEC"}


def order_entry_on(port: int) -> str:
    """The config lines that turn order entry on, on ``port``, for the one client."""
    return (
        f"[order_entry]\nport = {port}\nreset_on_logon = false\n"
        f'[[order_entry.sessions]]\nsender_comp_id = "{OURS}"\ntarget_comp_id = "{THEIRS}"\n'
    )


@pytest.fixture(scope="module")
def entry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DaemonProcess, int]]:
    """A daemon with FIX order entry on for one client, and the port it accepts on."""
    port = free_port("127.0.0.1")
    with running_daemon(tmp_path_factory.mktemp("daemon"), order_entry_on(port)) as daemon:
        yield daemon, port


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for every test's session: sequence numbers go on from test to test."""
    return tmp_path_factory.mktemp("fix-client")


def session(
    entry: tuple[DaemonProcess, int], directory: Path
) -> AbstractAsyncContextManager[FixClient]:
    """A session as the one client, going on from the last one's sequence numbers."""
    return open_session(
        host="127.0.0.1",
        port=entry[1],
        sender_comp_id=THEIRS,
        target_comp_id=OURS,
        dictionary=write_order_entry_dictionary(directory),
        directory=directory,
        reset_on_logon=False,
    )


def new_order(
    cl_ord_id: str,
    *,
    strategy: str = "1001",
    quantity: str = "0.5",
    side: str = "1",
    symbol: str = "BTC-USD",
    fields: dict[int, str] | None = None,
    parameters: dict[str, str] | None = None,
) -> fix.Message:
    """A NewOrderSingle for a smart order (strategy parameters in group 957)."""
    message = fix.Message()
    message.getHeader().setField(35, "D")
    base = {11: cl_ord_id, 55: symbol, 54: side, 38: quantity, 40: "1", 847: strategy}
    base[60] = timestamp(datetime.now(UTC))
    for tag, value in {**base, **(fields or {})}.items():
        message.setField(tag, value)
    for name, value in (parameters or {}).items():
        group = fix.Group(957, 958)
        group.setField(958, name)
        group.setField(959, "14")
        group.setField(960, value)
        message.addGroup(group)
    return message


def request(
    msg_type: str, cl_ord_id: str, orig: str, fields: dict[int, str] | None = None
) -> fix.Message:
    """A cancel (F) or amend (G, with OrderQty and OrdType in ``fields``) of ``orig``."""
    message = fix.Message()
    message.getHeader().setField(35, msg_type)
    base = {11: cl_ord_id, 41: orig, 55: "BTC-USD", 54: "1", 60: timestamp(datetime.now(UTC))}
    for tag, value in {**base, **(fields or {})}.items():
        message.setField(tag, value)
    return message


async def next_for(client: FixClient, *cl_ord_ids: str) -> Fields:
    """The next message about one of ``cl_ord_ids`` (older orders' reports are skipped)."""
    while True:
        message = await client.receive()
        if message.get(11) in cl_ord_ids or message[35] == "3":
            return message


async def answer_to(client: FixClient, *cl_ord_ids: str) -> Fields:
    """The next message about ``cl_ord_ids`` that is not a Trade (the order's fills go on)."""
    while (message := await next_for(client, *cl_ord_ids)).get(150) == "F":
        pass
    return message


async def next_of_type(client: FixClient, msg_type: str) -> Fields:
    """The next message of ``msg_type`` (late reports of older orders are skipped)."""
    while (message := await client.receive())[35] != msg_type:
        pass
    return message


async def until_final(client: FixClient, cl_ord_id: str) -> list[Fields]:
    """Every report of one order up to the final one."""
    reports = []
    while True:
        report = await next_for(client, cl_ord_id)
        assert report[35] == "8", report
        reports.append(report)
        if report[39] in FINAL_STATUSES:
            return reports


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def check_against_ledger(daemon: DaemonProcess, reports: list[Fields]) -> None:
    """New first; CumQty never falls; LastQty adds up to it; AvgPx and the simulator agree."""
    assert (reports[0][150], reports[0][39]) == ("0", "0"), reports[0]
    trades = [r for r in reports if r[150] == "F"]
    assert trades, reports
    cum = [Decimal(r[14]) for r in reports]
    assert cum == sorted(cum)
    final = Decimal(reports[-1][14])
    assert sum(Decimal(t[32]) for t in trades) == final
    notional = sum(Decimal(t[32]) * Decimal(t[31]) for t in trades)
    assert abs(Decimal(reports[-1][6]) - notional / final) < Decimal("0.0001")
    for report in reports:
        assert Decimal(report[151]) == (
            0 if report[39] in FINAL_STATUSES else Decimal(report[38]) - Decimal(report[14])
        )
    async with httpx.AsyncClient() as http:
        ledger = (await http.get(f"{daemon.sim_url}/v1/sim/executions")).json()
    order_id = reports[0][37]
    children = [e for child, e in ledger.items() if child.startswith(f"{order_id}-")]
    assert sum(Decimal(str(e["cum_qty"])) for e in children) == final
    ledger_notional = sum(Decimal(str(e["cum_qty"])) * Decimal(str(e["avg_px"])) for e in children)
    assert abs(ledger_notional - notional) < Decimal("0.01")


async def test_a_twap_and_a_vwap_complete_with_parent_reports(
    entry: tuple[DaemonProcess, int], client_dir: Path
) -> None:
    daemon, _ = entry
    twap, vwap = unique("twap"), unique("vwap")
    expire = timestamp(datetime.now(UTC) + timedelta(seconds=4))
    async with session(entry, client_dir) as client:
        client.send_message(
            new_order(
                twap,
                fields={100: "DERIBIT", 167: "perpetual"},
                parameters={"Duration": "3SEC", "Interval": "1SEC"},
            )
        )
        client.send_message(
            new_order(
                vwap,
                strategy="1",
                quantity="1",
                side="2",
                fields={126: expire},
                parameters={
                    "Interval": "1SEC",
                    "SafetyThreshold": "1",
                    "Exchanges": "BINANCE,DERIBIT",
                    "SymbolType": "perpetual",
                },
            )
        )
        reports: dict[str, list[Fields]] = {twap: [], vwap: []}
        with trio.fail_after(30):
            while not all(r and r[-1][39] in FINAL_STATUSES for r in reports.values()):
                report = await next_for(client, twap, vwap)
                assert report[35] == "8", report
                reports[report[11]].append(report)
    assert reports[twap][-1][39] == "2", reports[twap][-1]
    assert reports[vwap][-1][39] in ("2", "3"), reports[vwap][-1]
    assert reports[twap][0][847] == "1001" and reports[vwap][0][847] == "1"
    for order in reports.values():
        await check_against_ledger(daemon, order)
    async with httpx.AsyncClient() as http:
        views = (await http.get(f"{daemon.api_url}/v1/sor/requests")).json()
    assert {twap, vwap} <= {view["id"] for view in views}


async def test_amend_then_cancel_and_cancel_rejects(
    entry: tuple[DaemonProcess, int], client_dir: Path
) -> None:
    order, amend, cancel = unique("amend"), unique("g"), unique("f")
    async with session(entry, client_dir) as client:
        client.send_message(
            new_order(
                order,
                fields={100: "DERIBIT", 167: "perpetual"},
                parameters={"Duration": "1MIN", "Interval": "10SEC"},
            )
        )
        assert (await next_for(client, order))[150] == "0"
        client.send_message(request("G", amend, order, {38: "2", 40: "1", 126: "x"}))
        rejected = await next_of_type(client, "3")
        assert rejected[371] == "126", rejected  # not a UTCTimestamp
        client.send_message(request("G", amend, order, {38: "2", 40: "1"}))
        replaced = await next_for(client, order, amend)
        assert (replaced[35], replaced[150], replaced[41], replaced[38]) == ("8", "5", order, "2")
        too_long = request("G", unique("g"), amend, {38: "2", 40: "1"})
        group = fix.Group(957, 958)
        group.setField(958, "Interval")
        group.setField(960, "2MIN")
        too_long.addGroup(group)
        client.send_message(too_long)
        refused = await next_for(client, too_long.getField(11))
        assert (refused[35], refused[434], refused[102]) == ("9", "2", "99"), refused
        assert "longer than duration" in refused[58]
        client.send_message(request("F", cancel, amend))
        canceled = await next_for(client, order, amend, cancel)
        assert (canceled[150], canceled[39], canceled[11], canceled[41]) == (
            "4",
            "4",
            cancel,
            amend,
        )
        again = unique("f")
        client.send_message(request("F", again, cancel, {37: canceled[37]}))
        late = await next_for(client, again)
        assert (late[35], late[102], late[434]) == ("9", "0", "1"), late
        unknown = unique("f")
        client.send_message(request("F", unknown, "no-such-order"))
        answer = await next_for(client, unknown)
        assert (answer[35], answer[102]) == ("9", "1"), answer
        assert "no-such-order" in answer[58]


@pytest.mark.parametrize(
    ("fields", "parameters", "text"),
    [
        ({847: "7", 100: "DERIBIT", 167: "perpetual"}, {"Duration": "3SEC"}, "847"),
        ({100: "DERIBIT", 167: "perpetual"}, {"Interval": "1SEC"}, "duration"),
        ({100: "DERIBIT", 167: "perpetual"}, {"Duration": "3SEC", "Interval": "1PARSEC"}, "period"),
        ({100: "NOWHERE", 167: "perpetual"}, {"Duration": "3SEC", "Interval": "1SEC"}, "NOWHERE"),
        ({167: "perpetual"}, {"Duration": "3SEC", "Interval": "1SEC"}, "ExDestination"),
        ({100: "DERIBIT"}, {"Duration": "3SEC", "Interval": "1SEC", "Colour": "red"}, "Colour"),
        ({100: "DERIBIT", 167: "perpetual", 40: "3"}, SCHEDULE, "OrdType (40) 3"),
        ({100: "DERIBIT", 167: "perpetual", 44: "60000"}, SCHEDULE, "only for OrdType (40) 2"),
        ({100: "DERIBIT", 167: "perpetual", 40: "2"}, SCHEDULE, "Price (44) is required"),
        ({100: "DERIBIT", 167: "perpetual", 40: "2", 44: "0"}, SCHEDULE, "greater than 0"),
        (
            {100: "DERIBIT", 167: "perpetual", 38: "0"},
            {"Duration": "3SEC", "Interval": "1SEC"},
            "amount",
        ),
    ],
)
async def test_malformed_orders_are_rejected_with_a_reason(
    entry: tuple[DaemonProcess, int],
    client_dir: Path,
    fields: dict[int, str],
    parameters: dict[str, str],
    text: str,
) -> None:
    order = unique("bad")
    async with session(entry, client_dir) as client:
        client.send_message(new_order(order, fields=fields, parameters=parameters))
        report = await next_for(client, order)
    assert (report[35], report[150], report[39], report[37]) == ("8", "8", "8", "NONE"), report
    assert text in report[58], report[58]


async def test_wrong_types_get_a_session_reject_and_other_messages_a_business_reject(
    entry: tuple[DaemonProcess, int], client_dir: Path
) -> None:
    async with session(entry, client_dir) as client:
        client.send_message(new_order(unique("bad"), strategy="TWAP", fields={100: "DERIBIT"}))
        reject = await next_of_type(client, "3")
        assert reject[371] == "847", reject
        client.send("H", [(11, unique("h")), (55, "BTC-USD"), (54, "1")])
        business = await next_of_type(client, "j")
        assert (business[372], business[380]) == ("H", "3"), business


async def test_a_reconnect_mid_order_is_filled_in_by_resend(
    entry: tuple[DaemonProcess, int], client_dir: Path
) -> None:
    daemon, _ = entry
    order = unique("gap")
    async with session(entry, client_dir) as client:
        client.send_message(
            new_order(
                order,
                fields={100: "DERIBIT", 167: "perpetual"},
                parameters={"Duration": "4SEC", "Interval": "1SEC"},
            )
        )
        first = await next_for(client, order)
        assert first[150] == "0"
        await trio.to_thread.run_sync(client.session.logout)
        await trio.sleep(5)
        await trio.to_thread.run_sync(client.session.logon)
        rest = await until_final(client, order)
    assert any(report.get(43) == "Y" for report in rest), rest
    await check_against_ledger(daemon, [first, *rest])


async def best_ask(daemon: DaemonProcess, symbol_id: str = "DERIBIT_PERP_BTC_USD") -> Decimal:
    """The simulator's current best offer for ``symbol_id``."""
    async with httpx.AsyncClient() as http:
        quote = (await http.get(f"{daemon.sim_url}/v1/quotes/{symbol_id}/current")).json()
    return Decimal(str(quote["ask_price"]))


async def test_a_limit_through_the_market_fills_within_it(
    entry: tuple[DaemonProcess, int], client_dir: Path
) -> None:
    daemon, _ = entry
    order = unique("limit")
    limit = (await best_ask(daemon) * Decimal("1.005")).quantize(Decimal(1))  # 50 bps through
    async with session(entry, client_dir) as client:
        client.send_message(
            new_order(
                order,
                fields={100: "DERIBIT", 167: "perpetual", 40: "2", 44: f"{limit}"},
                parameters=SCHEDULE,
            )
        )
        with trio.fail_after(30):
            reports = [await next_for(client, order)]
            reports += await until_final(client, order)
    assert reports[-1][39] == "2", reports[-1]
    assert all((r[40], Decimal(r[44])) == ("2", limit) for r in reports), reports
    assert all(Decimal(r[31]) <= limit for r in reports if r[150] == "F")
    await check_against_ledger(daemon, reports)
    async with httpx.AsyncClient() as http:
        views = (await http.get(f"{daemon.api_url}/v1/sor/requests")).json()
    [view] = [view for view in views if view["id"] == order]
    assert Decimal(str(view["limitPrice"])) == limit


async def test_a_limit_far_from_the_market_trades_nothing_and_ends_done_for_day(
    entry: tuple[DaemonProcess, int], client_dir: Path
) -> None:
    daemon, _ = entry
    order, market, moved = unique("far"), unique("g"), unique("g")
    far = (await best_ask(daemon) * 2).quantize(Decimal(1))  # a sell twice above the market
    async with session(entry, client_dir) as client:
        client.send_message(
            new_order(
                order,
                side="2",
                fields={100: "DERIBIT", 167: "perpetual", 40: "2", 44: f"{far}"},
                parameters={"Duration": "5SEC", "Interval": "1SEC"},
            )
        )
        with trio.fail_after(30):
            accepted = await next_for(client, order)
            assert (accepted[150], accepted[40], Decimal(accepted[44])) == ("0", "2", far)
            client.send_message(request("G", market, order, {38: "0.5", 40: "1", 54: "2"}))
            refused = await next_for(client, market)
            assert (refused[35], refused[102]) == ("9", "99"), refused
            assert "take off the limit price" in refused[58]
            amend = {38: "0.5", 40: "2", 44: f"{far + 1}", 54: "2"}
            client.send_message(request("G", moved, order, amend))
            replaced = await next_for(client, order, moved)
            assert (replaced[150], Decimal(replaced[44])) == ("5", far + 1), replaced
            rest = await until_final(client, moved)
    final = rest[-1]
    assert (final[150], final[39], final[14]) == ("3", "3", "0"), final
    assert final[58] == "the schedule ended with 0.5 of 0.5 unfilled"
    assert not [report for report in rest if report[150] == "F"]


async def test_health_and_metrics_show_the_client_session(
    entry: tuple[DaemonProcess, int], client_dir: Path
) -> None:
    """The client's session is reported (by its CompID; in the metrics by
    ``order_entry:<CompID>``), and a client away leaves the daemon ready."""
    daemon, _ = entry
    async with httpx.AsyncClient(base_url=daemon.api_url) as http:
        async with session(entry, client_dir):
            up = (await http.get("/health")).json()
            metrics = (await http.get("/metrics")).text
        with trio.fail_after(10):
            while (away := await http.get("/health")).json()["order_entry"][THEIRS] == "up":
                await trio.sleep(0.1)
    assert up["order_entry"] == {THEIRS: "up"}
    assert f'sor_fix_session_up{{session="order_entry:{THEIRS}"}} 1.0' in metrics
    assert f'sor_fix_next_target_seq_num{{session="order_entry:{THEIRS}"}}' in metrics
    assert away.status_code == 200 and away.json()["order_entry"] == {THEIRS: "down"}


async def test_an_amended_order_is_known_by_its_new_cl_ord_id_after_a_restart(
    tmp_path: Path,
) -> None:
    order, amend, cancel = unique("restart"), unique("g"), unique("f")
    daemon_dir, client_store = tmp_path / "daemon", tmp_path / "client"
    daemon_dir.mkdir()
    client_store.mkdir()
    port = free_port("127.0.0.1")
    with running_daemon(daemon_dir, order_entry_on(port)) as daemon:
        async with session((daemon, port), client_store) as client:
            client.send_message(
                new_order(
                    order,
                    fields={100: "DERIBIT", 167: "perpetual"},
                    parameters={"Duration": "10MIN", "Interval": "5MIN"},
                )
            )
            assert (await next_for(client, order))[150] == "0"
            client.send_message(request("G", amend, order, {38: "1", 40: "1"}))
            replaced = await answer_to(client, order, amend)
            assert (replaced[35], replaced.get(150)) == ("8", "5"), replaced
    port = free_port("127.0.0.1")
    with running_daemon(daemon_dir, order_entry_on(port)) as daemon:
        async with session((daemon, port), client_store) as client:
            client.send_message(request("F", cancel, amend))
            canceled = await answer_to(client, order, amend, cancel)
    assert (canceled[35], canceled[150], canceled[37]) == ("8", "4", order), canceled
    assert (canceled[11], canceled[41]) == (cancel, amend)
