"""Scale and memory: a daemon with a long history and many live orders, and its restart.

A journal of 100,000 finished orders is written first (``bench.history``). The daemon is started
on an empty journal (the baseline: time from spawn to ready on ``/health``, and its resident
memory), then on the history (the same two figures), then 10,000 smart orders are submitted that
stay running but idle (TWAPs of a day with an hourly interval: slice 0 trades at once, the next
is an hour away) and its memory is read again, and GET /requests lists them all
(``bench.requests_listing``); last, it is stopped and started once more on
10,000 running and 100,000 finished orders: the recovery. Memory per finished order is the
history daemon's resident memory less the empty one's, over the history; per running order, the
growth the running orders caused, over their number.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import trio

from bench import requests_listing
from bench.harness import BenchmarkFailed, Goal, Outcome, ratio, resident_kib
from bench.history import write_history
from bench.submit import submit, twap_body
from tests.support.processes import (
    DaemonProcess,
    Simulator,
    daemon_process,
    free_port,
    remote_config,
    running_simulator,
)

FULL_FINISHED, FULL_RUNNING = 100_000, 10_000
SMOKE_FINISHED, SMOKE_RUNNING = 1_000, 200
RUNNING_SLICES = 25
"""A day at an hourly interval: 24 / 1 + 1 slices."""
SETTLE_SECONDS = 3.0
"""How long a daemon is left alone before its memory is read: start-up garbage collected,
slice 0's reports booked."""
RUNNING_LIMIT_SECONDS = 300
RECOVERY_GOAL_SECONDS = 5.0
FINISHED_GOAL_BYTES = 1024
RUNNING_GOAL_MB = 100.0
MB = 1_000_000

CONFIG = (
    "[risk]\n"
    # slice 0 of 10,000 orders goes out as fast as they are accepted: the gate must not refuse.
    'child_orders_per_second = "100000"\n'
    "child_order_burst = 100000\n"
)


@attrs.frozen
class Start:
    """A daemon that started: seconds from spawn to ready, and its resident memory (KiB)
    once settled."""

    seconds: float
    resident_kib: int


def run(workdir: Path, *, smoke: bool) -> Outcome:
    """Write the history, then start, load and restart the daemon on it; the empty journal
    first, as the baseline."""
    finished, running = (SMOKE_FINISHED, SMOKE_RUNNING) if smoke else (FULL_FINISHED, FULL_RUNNING)
    history = workdir / "history"
    (history / "data").mkdir(parents=True)
    written = time.perf_counter()
    events = write_history(history / "data" / "journal.sqlite", finished)
    write_seconds = time.perf_counter() - written
    simulator_dir, empty = workdir / "simulator", workdir / "empty"
    simulator_dir.mkdir()
    empty.mkdir()
    with running_simulator(simulator_dir, require_clean_stop=False) as simulator:
        with started(empty, simulator) as (baseline, _):
            pass
        with started(history, simulator) as (loaded, daemon):
            bodies = [twap_body(i, RUNNING_SLICES, "1DAY", "1HRS") for i in range(running)]
            trio.run(submit, daemon.api_url, bodies)
            wait_for_running(daemon.api_url, running)
            time.sleep(SETTLE_SECONDS)
            live_kib = resident_kib(daemon.pid)
            listing = requests_listing.measure(daemon.api_url, finished + running)
        with started(history, simulator) as (recovered, daemon):
            wait_for_running(daemon.api_url, running)
    finished_bytes = max(0, loaded.resident_kib - baseline.resident_kib) * 1024 / finished
    running_bytes = max(0, live_kib - loaded.resident_kib) * 1024 / running
    running_mb = running_bytes * FULL_RUNNING / MB
    return Outcome(
        name="scale",
        figures={
            "finished_orders": float(finished),
            "running_orders": float(running),
            "start_with_history_s": loaded.seconds,
            "recovery_s": recovered.seconds,
            "rss_history_mib": loaded.resident_kib / 1024,
            "rss_running_mib": live_kib / 1024,
            "rss_recovered_mib": recovered.resident_kib / 1024,
            "bytes_per_finished_order": finished_bytes,
            "bytes_per_running_order": running_bytes,
            "mb_per_10k_running": running_mb,
            "requests_newest_s": listing.newest_seconds,
            "requests_every_s": listing.every_seconds,
            "requests_every_mb": listing.every_mb,
            **listing.during_ms,
        },
        baseline={
            "start_empty_s": baseline.seconds,
            "rss_empty_mib": baseline.resident_kib / 1024,
            **listing.idle_ms,
        },
        ratios={
            "start_with_history": ratio(loaded.seconds, baseline.seconds),
            "recovery": ratio(recovered.seconds, baseline.seconds),
            "rss_running": ratio(live_kib, baseline.resident_kib),
            "health_p99_while_listing": ratio(
                listing.during_ms["health_listing_p99"], listing.idle_ms["health_idle_p99"]
            ),
        },
        goals=(
            Goal(
                f"recovery with {running} running and {finished} finished orders under "
                f"{RECOVERY_GOAL_SECONDS:g} s",
                recovered.seconds < RECOVERY_GOAL_SECONDS,
            ),
            Goal(
                f"under {FINISHED_GOAL_BYTES} bytes of memory per finished order",
                finished_bytes < FINISHED_GOAL_BYTES,
            ),
            Goal(
                f"well under {RUNNING_GOAL_MB:g} MB for {FULL_RUNNING} running orders",
                running_mb < RUNNING_GOAL_MB,
            ),
        ),
        notes=(
            f"history: {finished} finished 3-slice TWAPs, {events} events, journaled and "
            f"retired through the journal API in {write_seconds:.1f} s",
            f"running: {running} TWAPs of 1DAY at 1HRS over four venues (slice 0 traded); "
            f"mb_per_10k_running scales bytes_per_running_order to {FULL_RUNNING}",
            f"requests: GET /requests?newest={requests_listing.NEWEST}, then GET /requests of "
            f"all {finished + running} orders while /health/live is asked every "
            f"{requests_listing.PROBE_GAP_SECONDS:g} s (health_listing_*, ms), against "
            f"{requests_listing.IDLE_PROBES} probes before (health_idle_*)",
            "seconds: spawn to ready on /health (FIX logons included); memory: VmRSS "
            f"{SETTLE_SECONDS:g} s after ready; per-order figures are differences of resident "
            "memory between processes (0 when within noise below zero)",
        ),
    )


@contextlib.contextmanager
def started(directory: Path, simulator: Simulator) -> Iterator[tuple[Start, DaemonProcess]]:
    """A daemon on ``directory``'s data: how long it took to be ready, and its memory once
    settled; stopped with SIGTERM when the block ends."""
    api_port = free_port("127.0.0.1")
    config = remote_config(directory, simulator, api_port, CONFIG)
    spawned = time.perf_counter()
    with daemon_process(config, api_port, simulator.url, directory / "daemon.log") as daemon:
        seconds = time.perf_counter() - spawned
        time.sleep(SETTLE_SECONDS)
        yield Start(seconds, resident_kib(daemon.pid)), daemon


def wait_for_running(api_url: str, expected: int) -> None:
    """Poll /metrics until ``expected`` smart orders are Running, from one client (a new one
    loads the CA certificates, 28 ms of CPU taken from the daemon recovering)."""
    deadline = time.monotonic() + RUNNING_LIMIT_SECONDS
    line = f'sor_smart_orders{{status="Running"}} {float(expected)}'
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            if line in client.get(f"{api_url}/metrics").text.splitlines():
                return
            time.sleep(0.5)
    raise BenchmarkFailed(f"{expected} smart orders were not all running")
