"""The market-data FIX session over real FIX on loopback, driven by a quickfix initiator.

The simulator steps its market every 100 ms here, so updates come fast. Every check waits on
messages (or polls the simulator with a bounded wait), never on time: that something did not
happen is shown by a later message arriving first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import httpx
import quickfix as fix
import trio

from sor_daemon.sim.fixcodec import format_timestamp
from sor_daemon.sim.market import Level
from sor_daemon.sim.mdacceptor import MD_SENDER_COMP_ID
from sor_daemon.sim.service import SimulatorHandle
from sor_daemon.sim.settings import default_market

from .conftest import StartSimulator
from .md_client import WAIT, MarketDataClient, MdMessage, Replica, connect_market_data

BTC_PERP = "DERIBIT_PERP_BTC_USD"
ETH_PERP = "DERIBIT_PERP_ETH_USD"
FAST_MARKET = attrs.evolve(default_market(), step=timedelta(milliseconds=100))
BOOK_ENTRY_TAGS = {279, 269, 55, 270, 271, 272, 273}
TRADE_ENTRY_TAGS = {279, 269, 278, 55, 270, 271, 272, 273, 282}
DATE = re.compile(r"^\d{8}$")
TIME = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def pairs(levels: tuple[Level, ...]) -> list[tuple[Decimal, Decimal]]:
    return [(level.price, level.size) for level in levels]


def simulator_book(handle: SimulatorHandle, symbol_id: str, depth: int) -> tuple[list, list]:
    book = handle.exchange.book(symbol_id)
    assert book is not None
    return pairs(book.bids[:depth]), pairs(book.asks[:depth])


async def follow_until_equal(
    client: MarketDataClient, handle: SimulatorHandle, md_req_id: str, replica: Replica
) -> list[MdMessage]:
    """Apply updates until the replica equals the simulator's book; return the updates."""
    updates = []
    with trio.fail_after(WAIT):
        while True:
            update = await client.expect("X", md_req_id)
            replica.apply(update)
            updates.append(update)
            if replica.levels() == simulator_book(handle, BTC_PERP, 3):
                return updates


async def subscriptions(handle: SimulatorHandle) -> dict:
    async with httpx.AsyncClient(base_url=handle.http_url) as http:
        response = await http.get("/v1/sim/market-data/subscriptions")
    assert response.status_code == 200, response.text
    return response.json()


async def set_faults(handle: SimulatorHandle, **switches: object) -> None:
    async with httpx.AsyncClient(base_url=handle.http_url) as http:
        response = await http.post("/v1/sim/faults", json=switches)
    assert response.status_code == 200, response.text


async def test_a_subscription_gets_a_snapshot_then_updates_that_keep_a_replica_equal(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    handle = await start_simulator(market=FAST_MARKET)
    async with connect_market_data(handle, tmp_path / "md") as client:
        client.request("book", [BTC_PERP], depth="3")
        snapshot = await client.expect("W", "book")
        replica = Replica(snapshot)
        trades: list[dict[int, str]] = []
        matches = 0
        with trio.fail_after(WAIT):
            while matches < 3 or len(trades) < 3:
                update = await client.expect("X", "book")
                replica.apply(update)
                bids, asks = replica.levels()
                assert len(bids) == len(asks) == 3 and bids[0][0] < asks[0][0]
                matches += (bids, asks) == simulator_book(handle, BTC_PERP, 3)
                for entry in update.entries:
                    if entry[279] == "0":
                        trades.append(entry)
                    else:
                        assert set(entry) == BOOK_ENTRY_TAGS and entry[55] == BTC_PERP, entry
    assert snapshot.fields[55] == BTC_PERP
    assert [entry[269] for entry in snapshot.entries] == ["0", "0", "0", "1", "1", "1"]
    for entry in snapshot.entries:
        assert set(entry) == {269, 270, 271, 272, 273}, entry
        assert DATE.match(entry[272]) and TIME.match(entry[273]), entry
    bid_prices = [Decimal(entry[270]) for entry in snapshot.entries[:3]]
    ask_prices = [Decimal(entry[270]) for entry in snapshot.entries[3:]]
    assert bid_prices == sorted(bid_prices, reverse=True)
    assert ask_prices == sorted(ask_prices) and bid_prices[0] < ask_prices[0]
    for trade in trades:
        assert set(trade) == TRADE_ENTRY_TAGS and trade[269] == "2", trade
        assert trade[55] == BTC_PERP and trade[282] in ("BUY", "SELL"), trade
        assert Decimal(trade[271]) > 0 and Decimal(trade[270]) > 0, trade
    assert len({trade[278] for trade in trades}) == len(trades)


async def test_snapshots_patterns_and_trades_only_subscriptions(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    handle = await start_simulator(market=FAST_MARKET)
    async with connect_market_data(handle, tmp_path / "md") as client:
        client.request("once", ["^deribit_perp_.*$"], request_type="0", depth="1")
        first, second = await client.expect("W", "once"), await client.expect("W", "once")
        client.request("full", [ETH_PERP], request_type="0", depth="0", update_type=None)
        full = await client.expect("W", "full")
        client.request("tape", [BTC_PERP], entry_types="2")
        tape = await client.expect("W", "tape")
        update = await client.expect("X", "tape")
        listing = await subscriptions(handle)
    assert {first.fields[55], second.fields[55]} == {BTC_PERP, ETH_PERP}
    for snapshot in (first, second):
        assert [entry[269] for entry in snapshot.entries] == ["0", "1"]
    assert [entry[269] for entry in full.entries] == ["0"] * 10 + ["1"] * 10
    [last_trade] = tape.entries
    assert last_trade[269] == "2" and last_trade[282] in ("BUY", "SELL"), last_trade
    assert {entry[269] for entry in update.entries} == {"2"}
    assert listing == {
        "active": [{"md_req_id": "tape", "symbol_id": BTC_PERP, "depth": 5}],
        "unsubscribed": [],
    }


async def test_an_unsubscribe_stops_updates_and_a_logout_ends_every_subscription(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    handle = await start_simulator(market=FAST_MARKET)
    async with connect_market_data(handle, tmp_path / "md") as client:
        client.request("btc", [BTC_PERP])
        client.request("eth", [ETH_PERP], depth="2")
        await client.expect("X", "btc")
        client.request("btc", [BTC_PERP], request_type="2")
        client.request("marker", [ETH_PERP], request_type="0")
        await client.expect("W", "marker")
        eth_updates = 0
        with trio.fail_after(WAIT):
            while eth_updates < 5:
                message = await client.receive()
                assert message.md_req_id != "btc", message
                eth_updates += message.md_req_id == "eth"
        during = await subscriptions(handle)
    assert during["active"] == [{"md_req_id": "eth", "symbol_id": ETH_PERP, "depth": 2}]
    [ended] = during["unsubscribed"]
    assert (ended["md_req_id"], ended["symbol_id"]) == ("btc", BTC_PERP)
    assert ISO.match(ended["at"]), ended
    with trio.fail_after(WAIT):
        while (after := await subscriptions(handle))["active"]:
            await trio.sleep(0.02)
    assert after["unsubscribed"] == during["unsubscribed"]


BAD_REQUESTS = [
    ("unknown", {"symbols": ["NOPE_SPOT_BTC_USD"]}, "0", "unknown symbol NOPE_SPOT_BTC_USD"),
    ("no-match", {"symbols": ["^NOPE_.*$"]}, "0", "matches no symbol"),
    ("bad-regex", {"symbols": ["^(DERIBIT$"]}, "0", "not a valid regex"),
    ("type", {"request_type": "5"}, "4", "SubscriptionRequestType (263) '5'"),
    ("depth", {"depth": "-1"}, "5", "MarketDepth (264) '-1'"),
    ("update-type", {"update_type": "0"}, "6", "send 265=1"),
    ("entries", {"entry_types": "04"}, "8", "set 04 is not supported"),
    ("offers-only", {"entry_types": "1"}, "8", "set 1 is not supported"),
    ("never", {"request_type": "2"}, "0", "no subscription has MDReqID never"),
]


async def test_every_bad_request_is_rejected_with_a_reason_and_a_sentence(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    handle = await start_simulator(market=FAST_MARKET)
    async with connect_market_data(handle, tmp_path / "md") as client:
        rejects = {}
        for md_req_id, changes, _, _ in BAD_REQUESTS:
            request = {"symbols": [BTC_PERP]} | changes
            client.request(md_req_id, request.pop("symbols"), **request)
            rejects[md_req_id] = await client.receive()
        nothing_subscribed = await subscriptions(handle)
        client.request("twice", [BTC_PERP])
        await client.expect("W", "twice")
        client.request("twice", [ETH_PERP])
        duplicate = await client.expect("Y", "twice")
        update = await client.expect("X", "twice")
    for md_req_id, _, reason, words in BAD_REQUESTS:
        reject = rejects[md_req_id]
        assert reject.msg_type == "Y", reject
        assert (reject.md_req_id, reject.fields[281]) == (md_req_id, reason)
        assert words in reject.fields[58], reject.fields[58]
    assert nothing_subscribed == {"active": [], "unsubscribed": []}
    assert duplicate.fields[281] == "1" and "already in use" in duplicate.fields[58]
    assert {entry[55] for entry in update.entries} == {BTC_PERP}


async def test_the_freeze_fault_holds_market_data_back_and_thawing_catches_up(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    handle = await start_simulator(market=FAST_MARKET)
    async with connect_market_data(handle, tmp_path / "md") as client:
        client.request("frozen", [BTC_PERP], depth="3")
        replica = Replica(await client.expect("W", "frozen"))
        await follow_until_equal(client, handle, "frozen", replica)
        await set_faults(handle, market_data_frozen=True)
        client.request("marker-1", ["NOPE"])
        while (message := await client.receive()).msg_type != "Y":
            replica.apply(message)
        seen = {str(simulator_book(handle, BTC_PERP, 3))}
        with trio.fail_after(WAIT):
            while len(seen) < 3:
                await trio.sleep(0.02)
                seen.add(str(simulator_book(handle, BTC_PERP, 3)))
        client.request("late", [ETH_PERP])
        client.request("marker-2", ["NOPE"])
        held_back = await client.receive()
        assert (held_back.msg_type, held_back.md_req_id) == ("Y", "marker-2"), held_back
        assert replica.levels() != simulator_book(handle, BTC_PERP, 3)
        await set_faults(handle, market_data_frozen=False)
        late_snapshot = None
        with trio.fail_after(WAIT):
            while late_snapshot is None or replica.levels() != simulator_book(handle, BTC_PERP, 3):
                message = await client.receive()
                if message.md_req_id == "late":
                    late_snapshot = late_snapshot or message
                else:
                    replica.apply(message)
    assert late_snapshot.msg_type == "W", late_snapshot


async def test_a_logon_with_another_key_is_refused(
    start_simulator: StartSimulator,
) -> None:
    handle = await start_simulator()
    logon = fix.Message()
    header = logon.getHeader()
    for tag, value in (
        (8, "FIX.4.4"),
        (35, "A"),
        (49, "not-the-key"),
        (56, MD_SENDER_COMP_ID),
        (34, "1"),
        (52, format_timestamp(datetime.now(UTC))),
    ):
        header.setField(tag, value)
    logon.setField(98, "0")
    logon.setField(108, "1")
    stream = await trio.open_tcp_stream(handle.fix_host, handle.md_port)
    await stream.send_all(logon.toString().encode())
    received = b""
    with trio.fail_after(WAIT):
        while chunk := await stream.receive_some():
            received += chunk
    await stream.aclose()
    assert b"\x0135=A\x01" not in received
