"""A steady stream of fills through the real daemon, and what the feed made of them.

The simulator runs as its own process and the daemon is configured against it, with the risk
gate's rate limit opened so that it measures the daemon, not the gate. Each TWAP sends one small
IOC child a second (``1SEC`` slices), well inside the top level of its venue's book, so each child
fills in one report: N orders make about N fills a second. The orders go over the three spot
venues and both bases with alternating sides (books regenerate every market step and balances
stay where they started). An order's slices are due on the anniversaries of its acceptance, so
the orders are submitted evenly over whole seconds, slower than the daemon accepts them while
it trades: every part of each second then has as many slices due as any other. (Submitted over
one second, faster than the daemon accepted them, they clumped: a fifth of each second had
twice the fills of another, and that fifth made the tail.)

The simulator stamps every fill report when it hands it to quickfix (``GET /v1/sim/fill-times``,
by ClOrdID and CumQty); a TradeFill names the child and the amount of one fill, whose running sum
is that CumQty, so each TradeFill a subscriber received is matched to its report's send time.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

from bench.daemon_records import ems_log_dir, journal_events, logged_messages
from bench.feed import Reception
from bench.harness import BenchmarkFailed
from tests.support.processes import (
    DaemonProcess,
    daemon_process,
    free_port,
    remote_config,
    running_simulator,
)

RISK = '[risk]\nchild_orders_per_second = "1000000"\nchild_order_burst = 1000000\n'
"""Limits far above any rate a benchmark reaches: the gate still runs, it refuses nothing."""

INSTRUMENTS = (
    ("BINANCE", "BTC-USDT", Decimal("0.0002")),
    ("COINBASE", "BTC-USD", Decimal("0.0002")),
    ("KRAKEN", "BTC-USD", Decimal("0.0002")),
    ("BINANCE", "ETH-USDT", Decimal("0.002")),
    ("COINBASE", "ETH-USD", Decimal("0.002")),
    ("KRAKEN", "ETH-USD", Decimal("0.002")),
)
"""Spot instruments and a child size each: a multiple of every size increment, above every
minimum size, and a small share of a top level, so one child is one fill."""

EXEC_TYPE_TRADE = "F"
"""ExecType of a report that carries a fill (the reports the simulator stamps)."""
SUBMITTERS = 64
TERMINAL = frozenset({"Completed", "Cancelled", "Failed", "Expired"})
OVER_LIMIT_SECONDS = 120


@attrs.frozen
class Stream:
    """``orders`` one-second TWAPs of ``seconds`` each: about ``orders`` fills a second.

    ``settle`` is how long after the last order was accepted the steady window opens: the
    submissions come faster than the steady rate (a first slice with each acceptance), and the
    fills of that burst are not the steady stream the figures are about.

    ``spread`` is how many whole seconds the submissions are spread over: few enough orders a
    second that the daemon accepts each when it is sent."""

    orders: int
    seconds: int
    settle: float = 1.0
    spread: int = 1

    def body(self, index: int) -> dict[str, Any]:
        """The ``index``-th order: its instrument in turn, sides alternating by round."""
        exchange, symbol, child = INSTRUMENTS[index % len(INSTRUMENTS)]
        side = "buy" if index // len(INSTRUMENTS) % 2 == 0 else "sell"
        slices = self.seconds + 1
        return {
            "Algorithm": "TWAP",
            "Exchanges": [exchange],
            "Parameters": {
                "side": side,
                "symbol": symbol,
                "symbol_type": "spot",
                "amount": format(child * slices, "f"),
                "duration": f"{self.seconds}SEC",
                "interval": "1SEC",
            },
        }


@attrs.frozen
class Submitted:
    """Orders accepted by the daemon, and the wall-clock span over which they were submitted."""

    ids: list[str]
    started: float
    finished: float

    def steady_window(self, seconds: int, settle: float) -> tuple[float, float]:
        """From ``settle`` seconds after the last order was accepted (every order trading) to
        the end of the first order's schedule (none has ended yet)."""
        start, end = self.finished + settle, self.started + seconds
        if end <= start:
            raise BenchmarkFailed(
                f"submitting the orders took {self.finished - self.started:.1f} s, longer than "
                f"they run ({seconds} s): no moment had every order trading"
            )
        return start, end


def daemon_data_dir(workdir: Path) -> Path:
    """The data directory of the daemon ``running_stack(workdir)`` runs."""
    return workdir / "daemon" / "data"


@contextlib.contextmanager
def running_stack(workdir: Path) -> Iterator[DaemonProcess]:
    """The simulator as a process and the daemon against it, its risk rate opened up (its data
    in ``daemon_data_dir(workdir)``)."""
    sim_dir, daemon_dir = workdir / "simulator", workdir / "daemon"
    sim_dir.mkdir()
    daemon_dir.mkdir()
    with running_simulator(sim_dir, require_clean_stop=False) as simulator:
        api_port = free_port("127.0.0.1")
        config = remote_config(daemon_dir, simulator, api_port, RISK)
        log_path = daemon_dir / "daemon.log"
        with daemon_process(config, api_port, simulator.url, log_path) as daemon:
            yield daemon


def submit(api_url: str, stream: Stream) -> Submitted:
    """POST every order of ``stream``, evenly over its ``spread`` seconds (or as fast as the daemon
    accepts them, if slower), from a few concurrent clients."""
    return trio.run(_submit, api_url, stream)


async def _submit(api_url: str, stream: Stream) -> Submitted:
    ids = [""] * stream.orders
    pending = iter(range(stream.orders))
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=f"{api_url}/v1/sor", timeout=60)
            )
            for _ in range(SUBMITTERS)
        ]
        # Connected first: the first orders would otherwise wait for the connections together
        # and be accepted in a clump, their slices due at the same moment of every second.
        async with trio.open_nursery() as nursery:
            for http in clients:
                nursery.start_soon(http.get, f"{api_url}/health/live")
        started, start = time.time(), trio.current_time()

        async def post_in_turn(http: httpx.AsyncClient) -> None:
            for index in pending:
                await trio.sleep_until(start + index * stream.spread / stream.orders)
                answer = await http.post("/add", json=stream.body(index))
                if answer.status_code != 200:
                    raise BenchmarkFailed(f"the daemon refused an order: {answer.text}")
                ids[index] = answer.json()["id"]

        async with trio.open_nursery() as nursery:
            for http in clients:
                nursery.start_soon(post_in_turn, http)
    return Submitted(ids, started, time.time())


def wait_over(api_url: str, submitted: Submitted, seconds: int) -> list[dict[str, Any]]:
    """Poll GET /requests until every submitted order has ended; their views.

    The first poll waits for the schedules to end: listing thousands of orders costs the daemon
    enough to disturb what is measured."""
    time.sleep(max(0.0, submitted.finished + seconds + 1 - time.time()))
    wanted = set(submitted.ids)
    deadline = time.monotonic() + OVER_LIMIT_SECONDS
    while time.monotonic() < deadline:
        views = httpx.get(f"{api_url}/v1/sor/requests", timeout=60).json()
        mine = [view for view in views if view["id"] in wanted]
        if all(view["status"] in TERMINAL for view in mine):
            return mine
        time.sleep(1)
    raise BenchmarkFailed(f"the orders did not end within {OVER_LIMIT_SECONDS} s")


def fill_times(sim_url: str) -> dict[tuple[str, Decimal], float]:
    """When the simulator sent each fill report, by (ClOrdID, CumQty)."""
    stamps = httpx.get(f"{sim_url}/v1/sim/fill-times", timeout=60).json()
    return {
        (stamp["client_order_id"], _decimal(stamp["cum_qty"])): stamp["sent_at"] for stamp in stamps
    }


def trade_fills(reception: Reception) -> dict[int, tuple[str, Decimal]]:
    """Each TradeFill received, by message index: its child's id and CumQty after it.

    The CumQty is the running sum of the child's fills in the order the feed sent them (the
    longest sequence any subscriber received)."""
    reference = max(reception.subscribers, key=lambda arrivals: len(arrivals.indices)).indices
    cumulative: dict[str, Decimal] = {}
    keys: dict[int, tuple[str, Decimal]] = {}
    for index in dict.fromkeys(reference):
        text = reception.texts[index]
        if not text.startswith('{"Type":"TradeFill"'):
            continue
        data = json.loads(text)["Data"]
        child = data["OrderId"]
        cumulative[child] = cumulative.get(child, Decimal(0)) + _decimal(data["AmountFilled"])
        keys[index] = (child, cumulative[child])
    return keys


def sent_times(
    fills: dict[int, tuple[str, Decimal]], stamps: dict[tuple[str, Decimal], float]
) -> dict[int, float]:
    """When the simulator sent the report behind each TradeFill, by message index; a TradeFill
    with no report behind it means the matching is broken."""
    unmatched = [key for key in fills.values() if key not in stamps]
    if unmatched:
        raise BenchmarkFailed(
            f"{len(unmatched)} TradeFills match no fill report of the simulator, "
            f"e.g. {unmatched[0]}"
        )
    return {index: stamps[key] for index, key in fills.items()}


def fill_logged_times(data_dir: Path) -> dict[tuple[str, Decimal], float]:
    """When the daemon's EMS session logged each fill report coming in, by (ClOrdID, CumQty): the
    report off the wire, before any Python of the daemon's ran for it (the first, if it came
    twice)."""
    logged: dict[tuple[str, Decimal], float] = {}
    for stamp, fields in logged_messages(ems_log_dir(data_dir), "8"):
        if fields.get("150") == EXEC_TYPE_TRADE:
            logged.setdefault((fields["11"], _decimal(fields["14"])), stamp)
    return logged


def fill_booked_times(data_dir: Path) -> dict[tuple[str, Decimal], float]:
    """When the daemon read each report into its order, by (child id, CumQty): the time its
    journal gives the ``ChildReported`` event (the first, if it came twice)."""
    booked: dict[tuple[str, Decimal], float] = {}
    for event in journal_events(data_dir / "journal.sqlite", "ChildReported"):
        booked.setdefault((event.child_id, _decimal(event.cum_qty)), event.at.timestamp())
    return booked


def booked_fills(views: list[dict[str, Any]]) -> int:
    """How many fills the daemon booked on these orders (each announced by one TradeFill)."""
    return sum(len(view["fills"]) for view in views)


def _decimal(value: float | int | str | Decimal) -> Decimal:
    return Decimal(str(value)).normalize()
