"""Simulated markets for tests that must not depend on the hour they run at."""

from __future__ import annotations

from decimal import Decimal

import attrs

from sor_daemon.sim.settings import MarketParameters, default_market


def around_the_clock(market: MarketParameters | None = None) -> MarketParameters:
    """``market`` (the shipped one by default) trading at the same rate at every hour of the day.

    The shipped volume profile is busier at some hours (UTC) than at others, so how many trades
    a test saw in a few minutes depended on when it ran."""
    market = market or default_market()
    return attrs.evolve(market, tape=attrs.evolve(market.tape, profile=(Decimal(1),)))
