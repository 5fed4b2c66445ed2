"""Schedule accuracy: how late each child order leaves against the slice it belongs to.

1,000 TWAPs with a 1SEC interval run at once through the real daemon against the simulator as
its own process. Slice *k* of an order is due at its anchor (the ``OrderAccepted`` time) +
k x interval. After the run two lateness figures are read per child: when the daemon planned it
(``ChildPlanned.at`` in the journal: the runner woke, read the market, routed; negative, as a
slice is planned ``trading.slice_lead_ms`` ahead) and when it went out on the wire (the time,
in microseconds, at which quickfix logged the NewOrderSingle going out in the daemon's FIX
message log, just before writing it to the socket; its SendingTime has milliseconds only, and
read as the send time it put a fifth of the children before their due time).
Slice 0 goes out as the order is accepted, not on a timer, and is left out. Drift compares the
median lateness on the wire of slice 1 with that of the last slice: an absolute schedule must
not fall further behind over a long run.

The baseline is the same timers in a bare Trio program (``bench.trio_timers``), with the same
anchor offsets, as its own process after the daemon has stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import trio

from bench.daemon_records import ems_log_dir, journal_events, logged_messages
from bench.harness import BenchmarkFailed, Goal, Outcome, distribution, gc_pauses, ratio
from bench.submit import submit, twap_body
from sor_daemon.domain.events import ChildPlanned, OrderAccepted, SliceSkipped
from sor_daemon.domain.schedule import Schedule
from tests.support.processes import daemon_process, free_port, remote_config, running_simulator

FULL_ORDERS = 1000
FULL_SLICES = int(os.environ.get("SOR_BENCH_SCHEDULE_SLICES", "600"))
"""The issue's long run: 600 slices, ten minutes. The environment variable shortens it."""
SMOKE_ORDERS = 40
SMOKE_SLICES = 5
BASELINE_TICKS = 30
"""The bare Trio baseline ticks at most this long: lateness there does not grow with time, and
ten more minutes would only lengthen the run."""
P99_GOAL_MS = 10.0
DRIFT_TOLERANCE_MS = 1.0
FINISH_GRACE_SECONDS = 30

CONFIG = (
    "[risk]\n"
    # 1,000 children a second over four venues: far above the rate, so the gate never refuses.
    'child_orders_per_second = "100000"\n'
    "child_order_burst = 100000\n"
)


def run(workdir: Path, *, smoke: bool) -> Outcome:
    """Run the TWAPs through the daemon, read the lateness of every child, then the baseline."""
    orders, slices = (SMOKE_ORDERS, SMOKE_SLICES) if smoke else (FULL_ORDERS, FULL_SLICES)
    simulator_dir = workdir / "simulator"
    simulator_dir.mkdir()
    bodies = [twap_body(index, slices, f"{slices - 1}SEC", "1SEC") for index in range(orders)]
    with running_simulator(simulator_dir, require_clean_stop=False) as simulator:
        api_port = free_port("127.0.0.1")
        config = remote_config(workdir, simulator, api_port, CONFIG)
        with daemon_process(config, api_port, simulator.url, workdir / "daemon.log") as daemon:
            ids = trio.run(submit, daemon.api_url, bodies)
            wait_until_over(daemon.api_url, slices + FINISH_GRACE_SECONDS)
            pauses = gc_pauses(daemon.api_url)
    data = workdir / "data"
    timing = read_journal(data / "journal.sqlite", set(ids))
    sent = sending_times(ems_log_dir(data))
    planned = [late for index, lates in timing.by_slice.items() if index > 0 for late in lates]
    planned_late = sum(1 for late in planned if late > 0)
    on_wire_by_slice: defaultdict[int, list[float]] = defaultdict(list)
    for child, due in timing.due.items():
        if child in sent and timing.slice_of[child] > 0:
            on_wire_by_slice[timing.slice_of[child]].append((sent[child] - due) * 1000)
    on_wire = [late for lates in on_wire_by_slice.values() for late in lates]
    if len(on_wire) < len(planned):
        raise BenchmarkFailed(f"{len(planned) - len(on_wire)} children missing from the FIX log")
    last = slices - 1
    figures = {
        "orders": float(orders),
        "slices": float(slices),
        **distribution(on_wire, "sent_ms_"),
        "planned_ahead_ms_p50": -distribution(planned)["p50"],
        "planned_late_share": planned_late / len(planned),
        "first_slice_p50_ms": distribution(on_wire_by_slice[1])["p50"],
        "last_slice_p50_ms": distribution(on_wire_by_slice[last])["p50"],
        "skipped_slices": float(timing.skipped),
        "missed_slices": float(orders * last - len(timing.traded)),
        **pauses,
    }
    drift = max(0.0, figures["last_slice_p50_ms"] - figures["first_slice_p50_ms"])
    figures["drift_ms"] = drift
    ticks = slices if smoke else min(slices, BASELINE_TICKS)
    baseline = bare_trio_baseline(timing.offsets, ticks)
    return Outcome(
        name="schedule",
        figures=figures,
        baseline={f"timers_ms_{key}": value for key, value in baseline.items()},
        ratios={
            "sent_p99": ratio(figures["sent_ms_p99"], baseline["p99"]),
        },
        goals=(
            Goal(
                f"p99 lateness on the wire under {P99_GOAL_MS:g} ms",
                figures["sent_ms_p99"] < P99_GOAL_MS,
            ),
            Goal(
                f"no drift: slice {last}'s median no later than slice 1's "
                f"(within {DRIFT_TOLERANCE_MS:g} ms)",
                drift <= DRIFT_TOLERANCE_MS,
            ),
        ),
        notes=(
            f"{orders} TWAPs x {slices} slices at 1SEC over four venues; slice 0 (sent on "
            "acceptance) left out; lateness in ms against anchor + k x interval",
            "sent: when quickfix logged the NewOrderSingle going out (microseconds); planned "
            "ahead: how long before its due time the median child was planned (ChildPlanned.at, "
            "trading.slice_lead_ms ahead when on time); planned late share: the children "
            "planned after their due time; missed: slices merged into a later one because the "
            "order fell behind; drift: last slice's median on the wire less slice 1's, 0 when "
            "not later; gc: the daemon's garbage-collector pauses (sor_gc_pause_seconds), "
            "which every slice due meanwhile waits out",
            f"baseline: {orders} bare Trio tasks with the same anchor offsets, {ticks} ticks "
            "(own process, after the daemon stopped)",
        ),
    )


def wait_until_over(api_url: str, limit_seconds: float) -> None:
    """Poll /metrics until no smart order is Running (a scrape a second costs little), from one
    client: a new one each second would load the CA certificates each time, 28 ms of CPU taken
    from the daemon being measured."""
    deadline = time.monotonic() + limit_seconds
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            metrics = client.get(f"{api_url}/metrics").text
            if 'sor_smart_orders{status="Running"}' not in metrics:
                return
            time.sleep(1)
    raise BenchmarkFailed(f"smart orders still running after {limit_seconds:.0f} s")


class JournalTiming:
    """What the journal tells about the benchmark's orders: each child's slice and due time
    (epoch seconds), the planning lateness in ms by slice, the anchors' offsets within their
    second, the (order, slice) pairs after slice 0 that came due on their own (traded or
    skipped), and how many slices were skipped."""

    def __init__(self) -> None:
        self.due: dict[str, float] = {}
        self.slice_of: dict[str, int] = {}
        self.by_slice: defaultdict[int, list[float]] = defaultdict(list)
        self.offsets: list[float] = []
        self.traded: set[tuple[str, int]] = set()
        self.skipped = 0


def read_journal(path: Path, order_ids: set[str]) -> JournalTiming:
    """Read the schedule of every order in ``order_ids`` and when each child was planned."""
    timing = JournalTiming()
    schedules: dict[str, Schedule] = {}
    for event in journal_events(path, "OrderAccepted", "ChildPlanned", "SliceSkipped"):
        if event.order_id not in order_ids:
            continue
        if isinstance(event, OrderAccepted):
            schedules[event.order_id] = Schedule.plan(
                event.at, event.params.duration, event.params.interval
            )
            timing.offsets.append(event.at.timestamp() % 1)
        elif isinstance(event, SliceSkipped):
            timing.skipped += 1
            if event.slice_index > 0:
                timing.traded.add((event.order_id, event.slice_index))
        elif isinstance(event, ChildPlanned):
            due = schedules[event.order_id].due(event.slice_index)
            late = (event.at - due).total_seconds() * 1000
            timing.due[event.child_id] = due.timestamp()
            timing.slice_of[event.child_id] = event.slice_index
            if event.slice_index > 0:
                timing.traded.add((event.order_id, event.slice_index))
            timing.by_slice[event.slice_index].append(late)
    if len(schedules) != len(order_ids):
        raise BenchmarkFailed(f"{len(order_ids) - len(schedules)} orders missing from the journal")
    return timing


def sending_times(log_dir: Path) -> dict[str, float]:
    """Each child's send time (epoch seconds): when quickfix logged its NewOrderSingle going out,
    in the daemon's EMS FIX message log."""
    return {fields["11"]: stamp for stamp, fields in logged_messages(log_dir, "D")}


def bare_trio_baseline(offsets: list[float], ticks: int) -> dict[str, float]:
    """Run ``bench.trio_timers`` as its own process with the daemon's anchor offsets."""
    finished = subprocess.run(
        [sys.executable, "-m", "bench.trio_timers", "--ticks", str(ticks)],
        input=json.dumps(offsets),
        capture_output=True,
        text=True,
        check=False,
        timeout=ticks + 60,
    )
    if finished.returncode != 0:
        raise BenchmarkFailed(f"the bare Trio baseline failed: {finished.stderr}")
    return json.loads(finished.stdout)
