"""The engine rig every engine test drives: mock clock, paper venue, static market, journal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from sor_daemon.engine.clock import TrioClock
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.runner import Services
from sor_daemon.engine.settings import TradingSettings
from sor_daemon.store.journal import Journal
from tests.support.orders import START, TABLE
from tests.support.paper import PaperVenue, StaticMarket
from tests.support.rig import Rig


@pytest.fixture
async def rig(tmp_path: Path, nursery: trio.Nursery) -> AsyncIterator[Rig]:
    clock = TrioClock(START)
    venue = PaperVenue(clock)
    journal = Journal(tmp_path / "journal.sqlite", commit_on_trio_thread=True)
    await nursery.start(journal.run)
    market = StaticMarket(clock)
    services = Services(journal, venue, market, Feed(), clock, TradingSettings())
    engine = Engine(services, TABLE, venue.news)
    await nursery.start(engine.run)
    yield Rig(engine, venue, journal, services.feed, venue.news, market)
