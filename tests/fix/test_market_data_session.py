"""MarketDataSession over real FIX on loopback, against the simulator's market-data acceptor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import trio

from sor_daemon.fix.market_data import (
    FeedUp,
    MarketDataEvent,
    MarketDataSession,
    MarketDataSettings,
)
from sor_daemon.fix.md_dialect import BookSnapshot, MarketDataRejected, MarketUpdate
from sor_daemon.sim.service import SimulatorHandle

SYMBOL = "KRAKEN_SPOT_BTC_USD"
OTHER = "COINBASE_SPOT_BTC_USD"
WAIT = 20

E = TypeVar("E")


@pytest.fixture
async def session(simulator: SimulatorHandle, tmp_path: Path) -> AsyncIterator[MarketDataSession]:
    """A session logged on to the simulator."""
    settings = MarketDataSettings(
        host=simulator.fix_host,
        port=simulator.md_port,
        api_key=simulator.md_api_key,
        heartbeat_seconds=1,
        reconnect_seconds=1,
    )
    subject = MarketDataSession(settings, tmp_path / "daemon")
    async with trio.open_nursery() as nursery:
        await nursery.start(subject.run)
        assert await next_event(subject, FeedUp) == FeedUp()
        assert subject.is_up
        yield subject
        nursery.cancel_scope.cancel()


async def next_event(
    session: MarketDataSession, kind: type[E], accept: Callable[[E], bool] = lambda _: True
) -> E:
    """The next event of ``kind`` that ``accept`` takes, skipping others; WAIT seconds at most."""
    with trio.fail_after(WAIT):
        while True:
            event: MarketDataEvent = await session.events.receive()
            if isinstance(event, kind) and accept(event):
                return event


async def server_subscriptions(simulator: SimulatorHandle) -> dict[str, list[dict]]:
    async with httpx.AsyncClient(base_url=simulator.http_url) as client:
        response = await client.get("/v1/sim/market-data/subscriptions")
    response.raise_for_status()
    return response.json()


async def test_a_subscription_brings_a_snapshot_then_updates_until_unsubscribed(
    simulator: SimulatorHandle, session: MarketDataSession
) -> None:
    md_req_id = session.subscribe(SYMBOL, 5)
    assert md_req_id is not None
    assert session.subscribe(SYMBOL, 5) == md_req_id  # one subscription per symbol

    snapshot = await next_event(session, BookSnapshot)
    assert (snapshot.md_req_id, snapshot.symbol_id) == (md_req_id, SYMBOL)
    assert 0 < len(snapshot.bids) <= 5
    assert 0 < len(snapshot.asks) <= 5
    assert [level.price for level in snapshot.bids] == sorted(
        (level.price for level in snapshot.bids), reverse=True
    )
    assert snapshot.bids[0].price < snapshot.asks[0].price

    update = await next_event(
        session, MarketUpdate, lambda update: bool(update.changes or update.trades)
    )
    assert update.md_req_id == md_req_id
    assert {item.symbol_id for item in (*update.changes, *update.trades)} == {SYMBOL}

    assert session.unsubscribe(SYMBOL)
    assert not session.unsubscribe(SYMBOL)
    with trio.fail_after(WAIT):
        while True:
            listing = await server_subscriptions(simulator)
            if md_req_id in {entry["md_req_id"] for entry in listing["unsubscribed"]}:
                break
            await trio.sleep(0.05)
    assert md_req_id not in {entry["md_req_id"] for entry in listing["active"]}

    # Whatever the server sends after the unsubscribe (its next snapshot here) is not for it.
    other = session.subscribe(OTHER, 5)
    await next_event(session, BookSnapshot, lambda snapshot: snapshot.md_req_id == other)
    for _ in range(3):
        update = await next_event(session, MarketUpdate)
        assert update.md_req_id == other


async def test_an_unknown_symbol_is_rejected_with_the_servers_reason(
    session: MarketDataSession,
) -> None:
    md_req_id = session.subscribe("NOWHERE_SPOT_FOO_BAR", 5)

    rejected = await next_event(session, MarketDataRejected)

    assert (rejected.md_req_id, rejected.reason) == (md_req_id, "0")
    assert rejected.text
    # The rejected subscription is gone: subscribing again sends a new request.
    assert session.subscribe("NOWHERE_SPOT_FOO_BAR", 5) not in (None, md_req_id)


def test_nothing_is_sent_before_logon(tmp_path: Path) -> None:
    session = MarketDataSession(MarketDataSettings(api_key="key"), tmp_path)

    assert not session.is_up
    assert session.subscribe(SYMBOL, 5) is None
    assert not session.unsubscribe(SYMBOL)


def test_the_session_needs_an_api_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        MarketDataSession(MarketDataSettings(api_key=None), tmp_path)
