"""Fixtures: a simulated exchange with no sockets, and running simulators over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
import trio

from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.service import SimulatorHandle, serve_simulator
from sor_daemon.sim.settings import (
    SimulatorSettings,
    default_instruments,
    default_market,
)
from tests.support.markets import loopback_simulator

START = datetime(2024, 7, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def exchange() -> SimulatedExchange:
    """A venue at ``START`` with the shipped instruments and market, seed 7."""
    return SimulatedExchange(
        default_instruments(), default_market(), seed=7, start=START, run_id="T"
    )


@pytest.fixture
def sim_settings(tmp_path: Path) -> SimulatorSettings:
    """Settings for a simulator on free loopback ports in the test's own directory, trading
    as busily at every hour."""
    return loopback_simulator(tmp_path / "sim")


StartSimulator = Callable[..., Awaitable[SimulatorHandle]]


@pytest.fixture
async def start_simulator(sim_settings: SimulatorSettings) -> AsyncIterator[StartSimulator]:
    """Start simulators (settings overridable by keyword); all are stopped when the test ends."""
    async with trio.open_nursery() as nursery:

        async def start(**changes: object) -> SimulatorHandle:
            settings = attrs.evolve(sim_settings, **changes)
            return await nursery.start(serve_simulator, settings)

        yield start
        nursery.cancel_scope.cancel()


@pytest.fixture
async def simulator(start_simulator: StartSimulator) -> SimulatorHandle:
    """One running simulator with the default settings."""
    return await start_simulator()
