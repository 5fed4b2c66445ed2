"""Fan-out: 100 WebSocket subscribers receiving every feed event at about 2,000 events a second.

1,000 one-second TWAPs (``bench.fill_load``) make a TradeRequest and a TradeFill each a second,
plus a StatusChange as each starts and ends, while 100 subscribers in two processes of their own
(``bench.feed``) timestamp every message. No drops means every subscriber received every event,
in the same order: each subscriber's messages are compared with every distinct message any of
them received, and the TradeFills with the fills the daemon booked (``GET /requests``), so an
event lost for everyone counts too. A subscriber the daemon cut off as too slow is counted.

Delivery latency is measured on the TradeFills, from the moment the simulator handed the fill's
report to quickfix to each subscriber's receipt, over the steady window (every order trading,
none ended); the feed's messages carry no time of their own precise enough for the others. The
spread, each receipt less the earliest receipt of the same message by any subscriber, covers
every event and is what serving the other subscribers first cost.

Baseline: the raw trio-websocket broadcast server of ``bench.feed`` (a bounded queue and a writer
per subscriber, as the daemon's feed has) sending the same number of subscribers messages of the
events' median size at the event rate the daemon reached: publish to receipt, and the spread.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import attrs

from bench.feed import Reception, broadcast_baseline, subscribers
from bench.fill_load import (
    Stream,
    Submitted,
    booked_fills,
    fill_times,
    running_stack,
    sent_times,
    submit,
    trade_fills,
    wait_over,
)
from bench.harness import BenchmarkFailed, Goal, Outcome, distribution, ratio


@attrs.frozen
class Plan:
    """How many subscribers, over how many processes, and the orders that make the events."""

    subscribers: int
    processes: int
    stream: Stream


FULL = Plan(subscribers=100, processes=2, stream=Stream(orders=1000, seconds=60))
SMOKE = Plan(subscribers=5, processes=1, stream=Stream(orders=10, seconds=4))
GOAL_EVENTS_PER_SECOND = 2000
GOAL_SUBSCRIBERS = 100
GOAL_RATE_SHARE = 0.9
"""The goal's rate counts as reached at 90% of it (slices land on whole seconds, the window not)."""
SETTLE_SECONDS = 1.0


def run(workdir: Path, *, smoke: bool) -> Outcome:
    """The fan-out through the daemon, then the raw broadcast at the rate it reached."""
    plan = SMOKE if smoke else FULL
    with running_stack(workdir) as daemon:
        directory = workdir / "feed"
        directory.mkdir()
        with subscribers(
            daemon.ws_url, plan.subscribers, directory, processes=plan.processes
        ) as group:
            submitted = submit(daemon.api_url, plan.stream)
            views = wait_over(daemon.api_url, submitted, plan.stream.seconds)
            time.sleep(SETTLE_SECONDS)
            reception = group.collect()
        stamps = fill_times(daemon.sim_url)
    fills = trade_fills(reception)
    lost_everywhere = max(0, booked_fills(views) - len(fills))
    start, end = submitted.steady_window(plan.stream.seconds)
    sent = sent_times(fills, stamps)
    steady = {index: at for index, at in sent.items() if start <= at < end}
    if not reception.latencies(steady):
        cut_off = sum(1 for arrivals in reception.subscribers if arrivals.closed)
        raise BenchmarkFailed(
            f"no TradeFill of the steady window reached a subscriber: {len(sent)} received in "
            f"all, {len(steady)} sent by the simulator in the window, {cut_off} of "
            f"{plan.subscribers} subscribers cut off, orders submitted in "
            f"{submitted.finished - submitted.started:.1f} s"
        )
    rate = _event_rate(reception, start, end)
    figures = {
        "subscribers": float(plan.subscribers),
        "events": float(len(reception.texts)),
        "events_per_s": rate,
        **_deliveries(reception, steady, start, end, lost_everywhere),
    }
    size = round(statistics.median(len(text) for text in reception.texts))
    baseline = _baseline(workdir / "baseline", plan, rate, size, end - start)
    ratios = {
        key: ratio(figures[key], baseline[key])
        for key in ("latency_ms_p50", "latency_ms_p99", "spread_ms_p99")
    }
    goal_met = (
        plan.subscribers >= GOAL_SUBSCRIBERS
        and rate >= GOAL_RATE_SHARE * GOAL_EVENTS_PER_SECOND
        and figures["missed"] == 0
        and figures["cut_off"] == 0
    )
    return Outcome(
        name="fanout",
        figures=figures,
        baseline=baseline,
        ratios=ratios,
        goals=(Goal("no drops at 2,000 events/s to 100 subscribers", goal_met),),
        notes=_notes(plan, submitted, rate, figures),
    )


def _deliveries(
    reception: Reception, produced: dict[int, float], start: float, end: float, lost: int
) -> dict[str, float]:
    """Drops, delivery latency of ``produced`` messages and the spread, in ms."""
    missed = reception.missed()
    incomplete = sum(1 for count in missed if count or lost)
    return {
        "missed": float(sum(missed) + lost * len(missed)),
        "incomplete_subscribers": float(max(incomplete, reception.disordered())),
        "cut_off": float(sum(1 for arrivals in reception.subscribers if arrivals.closed)),
        **distribution((s * 1000 for s in reception.latencies(produced)), "latency_ms_"),
        **distribution((s * 1000 for s in reception.spreads(start, end)), "spread_ms_"),
    }


def _event_rate(reception: Reception, start: float, end: float) -> float:
    """Distinct events a second first received in the window."""
    first = reception.first_receipts()
    return sum(1 for at in first if start <= at < end) / (end - start)


def _baseline(
    directory: Path, plan: Plan, rate: float, size: int, seconds: float
) -> dict[str, float]:
    """The raw broadcast of ``rate * seconds`` messages of ``size`` to as many subscribers."""
    directory.mkdir()
    count = max(1, round(rate * seconds))
    reception, published = broadcast_baseline(
        directory,
        subscriber_count=plan.subscribers,
        processes=plan.processes,
        rate=max(rate, 1.0),
        size=size,
        count=count,
    )
    return _deliveries(reception, published, -math.inf, math.inf, count - len(published))


def _notes(
    plan: Plan, submitted: Submitted, rate: float, figures: dict[str, float]
) -> tuple[str, ...]:
    notes = [
        f"{plan.stream.orders} TWAPs submitted in {submitted.finished - submitted.started:.1f} s; "
        f"{rate:.0f} events/s reached in the steady window",
        "latency: TradeFills only, from the simulator handing the report to quickfix to each "
        "subscriber's receipt (time.time(), one host); spread: every event, each receipt less "
        "the earliest receipt of the same message",
    ]
    if figures["missed"] or figures["cut_off"]:
        notes.append(
            f"drops: {figures['missed']:.0f} messages missed over "
            f"{figures['incomplete_subscribers']:.0f} subscribers, "
            f"{figures['cut_off']:.0f} cut off as too slow"
        )
    return tuple(notes)
