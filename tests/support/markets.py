"""Simulated markets, and simulators trading them, for tests that must not depend on the hour
they run at."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs

from sor_daemon.sim.settings import MarketParameters, SimulatorSettings, default_market


def around_the_clock(market: MarketParameters | None = None) -> MarketParameters:
    """``market`` (the shipped one by default) trading at the same rate at every hour of the day.

    The shipped volume profile is busier at some hours (UTC) than at others, so how many trades
    a test saw in a few minutes depended on when it ran."""
    market = market or default_market()
    return attrs.evolve(market, tape=attrs.evolve(market.tape, profile=(Decimal(1),)))


def loopback_simulator(directory: Path) -> SimulatorSettings:
    """A simulator on free loopback ports, keeping its files under ``directory``, seed 7,
    trading ``around_the_clock``."""
    return SimulatorSettings(
        data_dir=directory, fix_port=0, http_port=0, md_port=0, seed=7, market=around_the_clock()
    )
