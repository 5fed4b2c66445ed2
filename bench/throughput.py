"""Child order throughput: child orders per second through the daemon against raw quickfix.

The baseline is raw quickfix Python (``bench.raw_fix``): one initiator process sends
NewOrderSingles as fast as it can to an acceptor process that answers each with a complete
fill, both set up as the daemon's EMS session is (FileStore, FileLog, the dialect's dictionary
with validation). Then that same acceptor process is the daemon's EMS, and a simulator process
serves the market data the daemon routes on.

The daemon is given TWAPs of one slice a second each, in steps, until more children are due
per second than it sends, or the acceptor answers them more than ``BEHIND_LIMIT`` late (the two
share the machine), or as many are due as raw quickfix sends (the most it could be asked to
keep up with). How many it can send depends on the machine, and asking for far more than that only
measures a backlog, so the load grows until it is just past what the daemon manages. Its rate is
then counted at the acceptor over a steady window that starts once every order is submitted and
has had a few seconds to settle (``children_per_second``); the best rate of a load step, while
the daemon still kept up or had only just stopped, is ``peak_step_children_per_second``.

Each side's CPU time per child order is reported too (the daemon's whole process with its
journal writer and EMS session processes against the raw initiator's, and the acceptor's in both
runs; the daemon's also process by process): unlike the rates, it hardly moves with whatever
else shares the machine, so it is the figure to compare between commits.

Goal (issue 8): at least 0.8 of raw quickfix's rate.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import attrs
import trio

from bench.harness import BenchmarkFailed, Goal, Outcome, cpu_seconds_by_process, ratio
from bench.raw_fix import RawAcceptor, run_initiator, running_acceptor
from bench.submit import submit, twap_body
from tests.support.processes import daemon_process, free_port, remote_config, running_simulator

NAME = "throughput"
GOAL_RATIO = 0.8
DURATION = "10MIN"
SLICES = 601
INTERVAL = "1SEC"
KEEPING_UP = 0.9
"""The daemon keeps up while it sends at least this share of the children due each second."""
BEHIND_LIMIT = 0.5
"""Seconds behind the orders' SendingTime the acceptor may answer before the load counts as
more than the machine carries: the acceptor shares the two cores with the daemon, so when the
daemon takes them, the acceptor falls behind even while the daemon still sends every child due."""
EMS_SETTINGS = "heartbeat_seconds = 30\n"
"""The daemon's default heartbeat is CoinAPI's 1 s: its session drops when the acceptor is two
seconds behind, which a full machine's stall reaches. This benchmark measures the rate; a
30-second heartbeat, common on EMS links, keeps the session through such a stall."""
RISK_LIMITS = """
[risk]
child_orders_per_second = "1000000"
child_order_burst = 1000000
"""
"""The default risk gate allows 100 children a second per venue: far too few to measure."""
PROCESS_NAMES = {
    "own": "trio_process",
    "sor_daemon.store.writer": "journal_writer",
    "sor_daemon.fix.ems_session": "ems_session",
}
"""How the CPU time of each of the daemon's processes is named in the figures."""


@attrs.frozen
class Plan:
    """How big one run is: the baseline's orders, the load steps, the measuring windows."""

    baseline_orders: int
    step_orders: int
    max_steps: int
    step_seconds: float
    settle_seconds: float
    window_seconds: float


FULL = Plan(
    baseline_orders=20000,
    step_orders=250,
    max_steps=40,
    step_seconds=2,
    settle_seconds=3,
    window_seconds=30,
)
SMOKE = Plan(
    baseline_orders=300,
    step_orders=50,
    max_steps=2,
    step_seconds=1,
    settle_seconds=1,
    window_seconds=3,
)


@attrs.frozen
class Load:
    """What the ramp reached: the smart orders running, and each step's rate."""

    smart_orders: int
    saturated: bool
    step_rates: tuple[float, ...]
    submit_seconds: float


def run(workdir: Path, *, smoke: bool) -> Outcome:
    """Measure raw quickfix, then the daemon against the same acceptor; compare."""
    plan = SMOKE if smoke else FULL
    with running_acceptor(workdir / "acceptor") as acceptor:
        baseline = _baseline(workdir / "initiator", acceptor, plan.baseline_orders)
        load, window = _through_daemon(workdir, acceptor, plan, baseline["children_per_second"])
    rate, raw_rate = window["children_per_second"], baseline["children_per_second"]
    peak = max(load.step_rates)
    figures = window | {
        "peak_step_children_per_second": peak,
        "smart_orders": load.smart_orders,
        "submit_seconds": load.submit_seconds,
    }
    notes = [
        f"{load.smart_orders} TWAPs ({INTERVAL} interval, one venue each, four venues) over REST "
        f"in steps of {plan.step_orders}; step rates "
        + ", ".join(f"{step:.0f}" for step in load.step_rates),
    ]
    if not load.saturated:
        notes.append("the daemon kept up with every step: the load never exceeded what it sends")
    if window["acceptor_behind_seconds"] > BEHIND_LIMIT:
        notes.append(
            f"the acceptor answered {window['acceptor_behind_seconds']:.1f} s behind at the "
            "window's end: the machine, not the daemon alone, set the rate"
        )
    if window["status_requests"]:
        notes.append(
            f"the daemon also sent {window['status_requests']:g} status requests (35=H) in the "
            "window: it took children as unreported"
        )
    return Outcome(
        name=NAME,
        figures=figures,
        baseline=baseline,
        ratios={
            "children_per_second": ratio(rate, raw_rate),
            "peak_step_children_per_second": ratio(peak, raw_rate),
            "cpu_microseconds_per_child": ratio(
                window["cpu_microseconds_per_child"], baseline["cpu_microseconds_per_child"]
            ),
        },
        goals=(Goal(f"at least {GOAL_RATIO} of raw quickfix", rate >= GOAL_RATIO * raw_rate),),
        notes=tuple(notes),
    )


def _baseline(directory: Path, acceptor: RawAcceptor, orders: int) -> dict[str, float]:
    """The raw initiator's rate and CPU time per child; every order must come back filled."""
    before = acceptor.status()
    try:
        figures = run_initiator(directory, acceptor.port, orders, timeout=120)
    except RuntimeError as error:
        raise BenchmarkFailed(str(error)) from None
    after = acceptor.status()
    return {
        "children_per_second": figures["children_per_second"],
        "children": figures["filled"],
        "cpu_microseconds_per_child": _per_child(figures["cpu_seconds"], figures["filled"]),
        "acceptor_cpu_microseconds_per_child": _per_child(
            after["cpu_seconds"] - before["cpu_seconds"], after["answered"] - before["answered"]
        ),
    }


def _through_daemon(
    workdir: Path, acceptor: RawAcceptor, plan: Plan, raw_rate: float
) -> tuple[Load, dict[str, float]]:
    """Run the daemon with the raw acceptor as its EMS: load it, then count a steady window."""
    api_port = free_port("127.0.0.1")
    (workdir / "simulator").mkdir()
    with running_simulator(workdir / "simulator", require_clean_stop=False) as simulator:
        ems = attrs.evolve(simulator, fix_port=acceptor.port)
        config = remote_config(workdir, ems, api_port, RISK_LIMITS, EMS_SETTINGS)
        with daemon_process(config, api_port, simulator.url, workdir / "daemon.log") as daemon:
            load = _ramp(daemon.api_url, daemon.pid, acceptor, plan, raw_rate)
            time.sleep(plan.settle_seconds)
            window = _window(acceptor, plan.window_seconds, daemon.pid)
    return load, window


def _ramp(
    api_url: str, daemon_pid: int, acceptor: RawAcceptor, plan: Plan, raw_rate: float
) -> Load:
    """Add smart orders a step at a time until the daemon no longer sends every child due, or the
    acceptor falls behind them, or as many are due as raw quickfix sends; what it reached."""
    submitted = 0
    step_rates: list[float] = []
    submit_seconds = 0.0
    for _ in range(plan.max_steps):
        bodies = [
            twap_body(index, SLICES, DURATION, INTERVAL)
            for index in range(submitted, submitted + plan.step_orders)
        ]
        started = time.monotonic()
        trio.run(submit, api_url, bodies)
        submit_seconds += time.monotonic() - started
        submitted += len(bodies)
        time.sleep(1)
        step = _window(acceptor, plan.step_seconds, daemon_pid)
        step_rates.append(step["children_per_second"])
        behind = step["acceptor_behind_seconds"] > BEHIND_LIMIT
        if step_rates[-1] < KEEPING_UP * submitted or behind:
            return Load(submitted, True, tuple(step_rates), submit_seconds)
        if submitted >= raw_rate:
            break
    return Load(submitted, False, tuple(step_rates), submit_seconds)


def _window(acceptor: RawAcceptor, seconds: float, daemon_pid: int) -> dict[str, float]:
    """Children the acceptor answered per second over the next ``seconds``, and what each cost
    the daemon's processes and the acceptor's in CPU time."""
    before, daemon_before = acceptor.status(), cpu_seconds_by_process(daemon_pid)
    time.sleep(seconds)
    after, daemon_after = acceptor.status(), cpu_seconds_by_process(daemon_pid)
    used = {
        PROCESS_NAMES.get(process, process): daemon_after[process] - daemon_before.get(process, 0)
        for process in daemon_after
    }
    return _rate(before, after, used)


def _rate(
    before: dict[str, Any], after: dict[str, Any], daemon_cpu_seconds: dict[str, float]
) -> dict[str, float]:
    """The window's rate, and its CPU time per child: the daemon's processes together, each of
    them, and the acceptor's."""
    children = after["answered"] - before["answered"]
    if children <= 0:
        raise BenchmarkFailed(f"no child order reached the EMS in a window: {after}")
    seconds = after["now"] - before["now"]
    return {
        "children_per_second": children / seconds,
        "children": children,
        "window_seconds": seconds,
        "status_requests": after["status_requests"] - before["status_requests"],
        "acceptor_behind_seconds": after["behind_seconds"],
        "cpu_microseconds_per_child": _per_child(sum(daemon_cpu_seconds.values()), children),
        **{
            f"{process}_cpu_microseconds_per_child": _per_child(cpu, children)
            for process, cpu in daemon_cpu_seconds.items()
        },
        "acceptor_cpu_microseconds_per_child": _per_child(
            after["cpu_seconds"] - before["cpu_seconds"], children
        ),
    }


def _per_child(cpu: float, children: int) -> float:
    return cpu / children * 1e6 if children else 0.0
