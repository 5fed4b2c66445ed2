"""Market data, VWAP and routing through the real daemon: its market-data FIX session and OHLCV
client against the bundled simulator, whose market is the one the EMS fills against."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from sor_daemon.data import read_text
from sor_daemon.domain.events import ChildPlanned, MarketSampled
from sor_daemon.store.records import decode
from tests.integration.feed_client import FeedClient, Message, is_final, new_order
from tests.support.processes import DaemonProcess, running_daemon

LIMIT = 60
THRESHOLD = Decimal("0.05")

# The shipped market with its day squeezed into 4 seconds: 2 quiet seconds (weight 0.2), then
# 2 busy ones (weight 4), and five times the shipped trade rate, so volume swings 20-fold.
BUSY_AND_QUIET = {
    'profile_period = "1DAY"': 'profile_period = "4SEC"',
    'trade_rate = "3"': 'trade_rate = "15"',
}


def market_file(directory: Path) -> Path:
    text = read_text("simulator.toml")
    start = text.index("profile = [")
    end = text.index("]", start) + 1
    text = text[:start] + 'profile = ["0.2", "4"]' + text[end:]
    for old, new in BUSY_AND_QUIET.items():
        assert old in text
        text = text.replace(old, new)
    path = directory / "market.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def market_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """A daemon that sees the whole books (10 levels), takes a book unheard of for 1 s as
    stale, and completes its VWAPs at their end."""
    directory = tmp_path_factory.mktemp("market")
    extra = (
        f'market_file = "{market_file(directory)}"\n'
        "[market_data]\n"
        'max_age = "1SEC"\n'
        "depth = 10\n"
        "[vwap]\n"
        f'default_safety_threshold = "{THRESHOLD}"\n'
        "complete_at_end = true\n"
    )
    with running_daemon(directory, extra) as process:
        yield process


async def run_orders(daemon: DaemonProcess, *orders: Message) -> dict[str, list[Message]]:
    """Send the orders over one feed connection; every message about each, up to its end."""
    collected: dict[str, list[Message]] = {order["id"]: [] for order in orders}
    with trio.fail_after(LIMIT):
        async with open_websocket_url(daemon.ws_url) as connection:
            feed = FeedClient(connection)
            for order in orders:
                await feed.send(order)
            open_orders = set(collected)
            while open_orders:
                message = await feed.receive()
                order_id = message.get("CompositeId")
                if order_id in open_orders:
                    collected[order_id].append(message)
                    if is_final(message):
                        open_orders.discard(order_id)
    return collected


def journaled(daemon: DaemonProcess, order_id: str) -> list[object]:
    """The order's events as the daemon journaled them (read while it runs, as WAL allows)."""
    path = daemon.log_path.parent / "data" / "journal.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT kind, body FROM events WHERE order_id = ? ORDER BY seq", (order_id,)
        ).fetchall()
    return [decode(kind, body) for kind, body in rows]


def average_price(view: dict) -> Decimal:
    fills = view["fills"]
    notional = sum(Decimal(str(f["amountFilled"])) * Decimal(str(f["price"])) for f in fills)
    return notional / sum(Decimal(str(f["amountFilled"])) for f in fills)


def order_view(daemon: DaemonProcess, order_id: str) -> dict:
    views = httpx.get(f"{daemon.api_url}/v1/sor/requests", timeout=5).json()
    return next(view for view in views if view["id"] == order_id)


async def test_a_vwap_follows_the_simulated_volume_and_completes(
    market_daemon: DaemonProcess,
) -> None:
    order = new_order("vwap-1", "12", "12SEC", "1SEC", algorithm="VWAP")
    messages = (await run_orders(market_daemon, order))["vwap-1"]
    assert messages[-1]["Data"]["Status"] == "Completed"
    assert messages[-1]["Data"]["TotalFilled"] == 12

    events = journaled(market_daemon, "vwap-1")
    samples = [e for e in events if isinstance(e, MarketSampled)]
    assert samples[-1].slice_index == 13  # the closing sample, after slices 0 to 12
    volume = {e.slice_index: e.volume for e in samples[:-1]}
    traded: dict[int, Decimal] = {}
    for event in events:
        if isinstance(event, ChildPlanned):
            traded[event.slice_index] = traded.get(event.slice_index, Decimal(0)) + event.quantity
    assert all(v is not None for v in volume.values()), volume
    last = max(volume)
    for index, size in traded.items():  # never above the threshold's share of the volume
        if index != last:
            assert size <= volume[index] * THRESHOLD  # type: ignore[operator]
    # busier intervals, larger slices: rank the slices (but the last) by the volume before them
    ranked = sorted((i for i in volume if i != last), key=lambda i: volume[i])  # type: ignore[arg-type, return-value]
    half = len(ranked) // 2
    quiet = sum(traded.get(i, Decimal(0)) for i in ranked[:half]) / half
    busy = sum(traded.get(i, Decimal(0)) for i in ranked[-half:]) / half
    assert busy > 3 * quiet, (volume, traded)

    quality = order_view(market_daemon, "vwap-1")["executionQuality"]
    assert set(quality) == {
        "arrivalPrice",
        "averagePrice",
        "slippageBps",
        "marketVwap",
        "marketTwap",
        "participationRate",
    }
    assert 0 < quality["participationRate"] < 1


async def test_a_two_venue_twap_splits_slices_and_beats_the_worse_venue_alone(
    market_daemon: DaemonProcess,
) -> None:
    # slices of 15: more than BINANCE shows below DERIBIT's best offer (about 12.75)
    split = new_order("split-1", "45", "2SEC", "1SEC", exchanges=("BINANCE", "DERIBIT"))
    alone = new_order("alone-1", "45", "2SEC", "1SEC", exchange="DERIBIT")
    messages = await run_orders(market_daemon, split, alone)
    assert messages["split-1"][-1]["Data"]["Status"] == "Completed"
    assert messages["alone-1"][-1]["Data"]["Status"] == "Completed"

    children = [e for e in journaled(market_daemon, "split-1") if isinstance(e, ChildPlanned)]
    slices: dict[int, set[str]] = {}
    for child in children:
        slices.setdefault(child.slice_index, set()).add(child.exchange)
    assert {"BINANCE", "DERIBIT"} in slices.values()  # one slice went to both venues
    requests = [m for m in messages["split-1"] if m["Type"] == "TradeRequest"]
    assert len(requests) == len(children)  # each child announced with its own TradeRequest

    split_price = average_price(order_view(market_daemon, "split-1"))
    alone_price = average_price(order_view(market_daemon, "alone-1"))
    assert split_price < alone_price


async def subscriptions(daemon: DaemonProcess) -> dict:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{daemon.sim_url}/v1/sim/market-data/subscriptions")
    answer.raise_for_status()
    return answer.json()


async def test_the_symbol_is_unsubscribed_after_its_last_order_ends(
    market_daemon: DaemonProcess,
) -> None:
    symbol_id = "KRAKEN_SPOT_BTC_USD"
    order = new_order("kraken-1", "0.5", "1SEC", "1SEC", exchange="KRAKEN", symbol_type="spot")
    messages = (await run_orders(market_daemon, order))["kraken-1"]
    assert messages[-1]["Data"]["Status"] == "Completed"
    with trio.fail_after(10):
        while True:
            state = await subscriptions(market_daemon)
            active = {entry["symbol_id"] for entry in state["active"]}
            ended = {entry["symbol_id"] for entry in state["unsubscribed"]}
            if symbol_id in ended and symbol_id not in active:
                break
            await trio.sleep(0.1)


async def set_fault(daemon: DaemonProcess, **switches: bool) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{daemon.sim_url}/v1/sim/faults", json=switches)
    answer.raise_for_status()


async def test_stale_quotes_pause_trading_until_the_market_data_is_back(
    market_daemon: DaemonProcess,
) -> None:
    order = new_order("stale-1", "1", "6SEC", "1SEC", exchange="COINBASE", symbol_type="spot")
    seen: list[Message] = []
    with trio.fail_after(LIMIT):
        async with open_websocket_url(market_daemon.ws_url) as connection:
            feed = FeedClient(connection)
            await feed.send(order)
            seen += await feed.collect("stale-1", lambda m: m["Type"] == "TradeFill")
            await set_fault(market_daemon, market_data_frozen=True)
            try:
                seen += await feed.collect(
                    "stale-1", lambda m: "stale" in m["Data"].get("StatusInfo", "")
                )
            finally:
                await set_fault(market_daemon, market_data_frozen=False)
            seen += await feed.collect("stale-1", is_final)
    assert seen[-1]["Data"]["Status"] == "Completed"
    paused_at = next(i for i, m in enumerate(seen) if "stale" in m["Data"].get("StatusInfo", ""))
    resumed_at = next(
        i
        for i, m in enumerate(seen)
        if i > paused_at and m["Type"] == "StatusChange" and "StatusInfo" not in m["Data"]
    )
    between = [m["Type"] for m in seen[paused_at + 1 : resumed_at]]
    assert "TradeRequest" not in between  # nothing was sent on stale books
    assert seen[paused_at]["Data"]["Status"] == "Running"
