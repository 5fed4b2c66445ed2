"""GET /requests on a long history, and how fast the daemon answers anything else meanwhile.

The scale benchmark's daemon holds 100,000 finished and 10,000 running orders. This asks for the
newest 200 (as the dashboard does), then for every order, while a second client asks
``/health/live`` every PROBE_GAP_SECONDS. Those answer times during the whole list, against the
same probes while the daemon is otherwise idle, show whether making the list held the Trio
thread, which also sends every order's slices.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import attrs
import httpx

from bench.harness import BenchmarkFailed, distribution

NEWEST = 200
IDLE_PROBES = 50
PROBE_GAP_SECONDS = 0.05
TIMEOUT_SECONDS = 600.0


@attrs.frozen
class Listing:
    """How long each list took, how big the whole one was, and the probes' answer times (ms)."""

    newest_seconds: float
    every_seconds: float
    every_orders: int
    every_mb: float
    idle_ms: dict[str, float]
    during_ms: dict[str, float]


def measure(api_url: str, expected_orders: int) -> Listing:
    """List the newest NEWEST orders and then all ``expected_orders``, probing meanwhile."""
    with httpx.Client(base_url=api_url, timeout=TIMEOUT_SECONDS) as http:
        idle: list[float] = []
        _probes(api_url, lambda: len(idle) >= IDLE_PROBES, idle)
        started = time.perf_counter()
        newest = http.get("/v1/sor/requests", params={"newest": NEWEST}).json()
        newest_seconds = time.perf_counter() - started
        if len(newest) != min(NEWEST, expected_orders):
            raise BenchmarkFailed(f"?newest={NEWEST} listed {len(newest)} orders")

        listed = threading.Event()
        during: list[float] = []
        prober = threading.Thread(target=_probes, args=(api_url, listed.is_set, during))
        prober.start()
        started = time.perf_counter()
        try:
            body = http.get("/v1/sor/requests").content
        finally:
            every_seconds = time.perf_counter() - started
            listed.set()
            prober.join()
    orders = len(json.loads(body))
    if orders != expected_orders:
        raise BenchmarkFailed(f"GET /requests listed {orders} of {expected_orders} orders")
    return Listing(
        newest_seconds=newest_seconds,
        every_seconds=every_seconds,
        every_orders=orders,
        every_mb=len(body) / 1_000_000,
        idle_ms=distribution(idle, "health_idle_"),
        during_ms=distribution(during, "health_listing_"),
    )


def _probes(api_url: str, done: Callable[[], bool], samples: list[float]) -> None:
    """Ask /health/live every PROBE_GAP_SECONDS on a connection of its own until ``done()``;
    each answer time in ms into ``samples``."""
    with httpx.Client(base_url=api_url, timeout=TIMEOUT_SECONDS) as http:
        while not done():
            asked = time.perf_counter()
            http.get("/health/live").raise_for_status()
            samples.append((time.perf_counter() - asked) * 1000)
            time.sleep(PROBE_GAP_SECONDS)
