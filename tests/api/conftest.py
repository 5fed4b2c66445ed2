"""The API in process: the engine on a paper venue and a static market, served by hypercorn on
loopback exactly as the daemon serves it (``service.serve_api``), with real HTTP and WebSocket
clients. Keys for every role are configured unless a test asks for an open API."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import trio

from sor_daemon.api.app import build_app
from sor_daemon.api.keys import KeyTable, hash_key
from sor_daemon.api.observability import Observability
from sor_daemon.config import Config, config_from_dict
from sor_daemon.engine.clock import TrioClock
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.runner import Services
from sor_daemon.engine.settings import TradingSettings
from sor_daemon.ops.metrics import DaemonMetrics
from sor_daemon.service import serve_api
from sor_daemon.store.journal import Journal
from tests.support.orders import START, TABLE
from tests.support.paper import PaperVenue, StaticMarket

KEYS = {"viewer": "viewer-key", "desk-1": "desk-1-key", "desk-2": "desk-2-key", "ops": "ops-key"}
ROLES = {"viewer": "viewer", "desk-1": "trader", "desk-2": "trader", "ops": "admin"}


def key_tables() -> list[dict[str, str]]:
    """``[[api.keys]]`` for every test key, hashed as an operator would store them."""
    return [{"name": n, "role": ROLES[n], "sha256": hash_key(k)} for n, k in KEYS.items()]


class EmptyAccount:
    """An EMS account with nothing in it (the account proxy is not what these tests are about)."""

    async def balances(self) -> Any:
        return {}

    async def open_orders(self) -> Any:
        return {}

    async def positions(self) -> Any:
        return {}


@attrs.frozen
class ApiServer:
    """A served API: its base URL, its WebSocket URL, and the engine and keys behind it."""

    url: str
    engine: Engine
    keys: KeyTable

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/v1/sor/ws"


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, **api: object) -> AsyncIterator[ApiServer]:
    """The API on 127.0.0.1 (a free port) with ``[api]`` settings ``api`` (keys for every role
    unless ``keys`` is given)."""
    config: Config = config_from_dict(
        {"api": {"listen": "127.0.0.1:0", "keys": key_tables(), **api}}
    )
    clock = TrioClock(START)
    journal = Journal(tmp_path / "journal.sqlite", commit_on_trio_thread=True)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            feed = Feed(config.api.feed_queue_size)
            venue = PaperVenue(clock)
            services = Services(journal, venue, StaticMarket(clock), feed, clock, TradingSettings())
            engine = Engine(services, TABLE, venue.news)
            await nursery.start(engine.run)
            keys = KeyTable(config.api.api_keys(), required=config.api.auth_required)
            observability = Observability(engine, venue, journal, DaemonMetrics())
            app = build_app(engine, EmptyAccount(), keys, config.api, observability)
            binds = await nursery.start(serve_api, app, config)
            yield ApiServer(binds[0], engine, keys)
            nursery.cancel_scope.cancel()
    finally:
        journal.close()


def headers(name: str | None, how: str = "bearer") -> dict[str, str]:
    """The headers that present test key ``name`` (None: no key; unknown names: a wrong key)."""
    if name is None:
        return {}
    key = KEYS.get(name, "not-a-key")
    return {"Authorization": f"Bearer {key}"} if how == "bearer" else {"X-API-Key": key}


def new_order(amount: str = "1", duration: str = "1HRS", **extra: object) -> dict[str, Any]:
    """A long TWAP (it stays Running for the whole test) as the body of POST /add."""
    return {
        "Algorithm": "TWAP",
        "Exchanges": ["DERIBIT"],
        "Parameters": {
            "side": "buy",
            "symbol": "BTC-USD",
            "symbol_type": "perpetual",
            "amount": amount,
            "duration": duration,
            "interval": "1MIN",
        },
        **extra,
    }


def ws_new(**extra: object) -> str:
    """The same order as a WebSocket ``New``."""
    return json.dumps({"type": "New", **new_order(), **extra})
