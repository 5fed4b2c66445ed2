"""Fan-out: 100 WebSocket subscribers receiving every feed event at about 2,000 events a second.

1,000 one-second TWAPs (``bench.fill_load``) make a TradeRequest and a TradeFill each a second,
plus a StatusChange as each starts and ends, while 100 subscribers in two processes of their own
(``bench.feed``) timestamp every message. No drops means every subscriber received every event,
in the same order: each subscriber's messages are compared with every distinct message any of
them received, and the TradeFills with the fills the daemon booked (``GET /requests``), so an
event lost for everyone counts too. A subscriber the daemon cut off as too slow is counted, with
when its connection was closed (from the first event anyone received; its queue overflowed up
to a queue's worth of messages before that), how many messages it got and how fast until then;
a connection that ended any other way (dropped, a failure in the server) is counted as broken.
The events each subscriber received a second over the steady window show how much of the
stream it carried. None of that fails the benchmark: a machine too small for the goal gives
figures that say by how much, and the goal reads missed.

Delivery latency is measured on the TradeFills, from the moment the simulator handed the fill's
report to quickfix to each subscriber's receipt, over the steady window (every order trading,
none ended), or over every TradeFill received when none of the window's was (every subscriber
cut off before it); the feed's messages carry no time of their own precise enough for the
others. The spread, each receipt less the earliest receipt of the same message by any
subscriber, covers every event of the window and is what serving the other subscribers cost.

Baseline: the raw trio-websocket broadcast server of ``bench.feed`` (a bounded queue and a writer
per subscriber, as the daemon's feed has) sending the same number of subscribers messages of the
events' median size for as long as the steady window, at the goal's rate (2,000 events/s) rather
than the rate the daemon reached: the same load offered to both, so the figures say whether
this machine can carry the goal at all, with no daemon in the way, and how much of that the
daemon keeps. Same figures as the daemon's, latency from publishing to receipt.

The daemon runs first and the baseline after it: the baseline needs the size of the daemon's
messages, and as its rate is the goal's it learns nothing from running first. Each side starts
its own processes and stops them before the other starts, so neither loads the other.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable
from pathlib import Path

import attrs

from bench.feed import PICOWS_SERVER, Reception, broadcast_baseline, subscribers
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


FULL = Plan(subscribers=100, processes=2, stream=Stream(orders=1000, seconds=60, spread=8))
SMOKE = Plan(subscribers=5, processes=1, stream=Stream(orders=10, seconds=4))
GOAL_EVENTS_PER_SECOND = 2000
GOAL_SUBSCRIBERS = 100
GOAL_RATE_SHARE = 0.9
"""The goal's rate counts as reached at 90% of it (slices land on whole seconds, the window not)."""
SETTLE_SECONDS = 1.0
RATIOS = (
    "events_per_s",
    "received_per_s_p50",
    "cut_off_received_per_s_p50",
    "latency_ms_p50",
    "latency_ms_p99",
    "spread_ms_p99",
)
"""The figures compared with the baseline's, where both have them."""


def run(workdir: Path, *, smoke: bool) -> Outcome:
    """The fan-out through the daemon, then the raw broadcast at the goal's rate."""
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
    if not reception.texts:
        raise BenchmarkFailed(f"no feed message reached any of {plan.subscribers} subscribers")
    fills = trade_fills(reception)
    start, end = submitted.steady_window(plan.stream.seconds, plan.stream.settle)
    sent = sent_times(fills, stamps)
    steady = {index: at for index, at in sent.items() if start <= at < end}
    first = reception.first_receipts()
    in_window = {index: at for index, at in enumerate(first) if start <= at < end}
    lost_everywhere = max(0, booked_fills(views) - len(fills))
    figures = {
        "fills_per_s": sum(1 for at in stamps.values() if start <= at < end) / (end - start),
        **_deliveries(reception, in_window, steady or sent, end - start, lost_everywhere),
    }
    size = round(statistics.median(len(text) for text in reception.texts))
    baseline = _baseline(workdir / "baseline", plan, size, end - start)
    ratios = {
        key: ratio(figures[key], baseline[key])
        for key in RATIOS
        if key in figures and key in baseline
    }
    return Outcome(
        name="fanout",
        figures=figures,
        baseline=baseline,
        ratios=ratios,
        goals=(Goal("no drops at 2,000 events/s to 100 subscribers", _carried(figures)),),
        notes=_notes(plan, submitted, figures, baseline, latency_steady=bool(steady)),
    )


def _deliveries(
    reception: Reception,
    counted: dict[int, float],
    latency_from: dict[int, float],
    seconds: float,
    lost: int,
) -> dict[str, float]:
    """What the subscribers received of the ``counted`` messages (produced over ``seconds``):
    events a second, per subscriber and first to anyone; drops and cut-offs; delivery latency
    from ``latency_from`` and the spread, in ms. ``lost`` messages reached no subscriber."""
    missed = reception.missed()
    incomplete = sum(1 for count in missed if count or lost)
    cut_off = [arrivals for arrivals in reception.subscribers if arrivals.cut_off]
    figures = {
        "subscribers": float(len(reception.subscribers)),
        "events": float(len(reception.texts)),
        "events_per_s": len(counted) / seconds,
        **_min_median_max(
            (count / seconds for count in reception.received(counted)), "received_per_s_"
        ),
        "missed": float(sum(missed) + lost * len(missed)),
        "incomplete_subscribers": float(max(incomplete, reception.disordered())),
        "cut_off": float(len(cut_off)),
        "broken": float(sum(1 for arrivals in reception.subscribers if arrivals.broken)),
    }
    if cut_off:
        began = min(reception.first_receipts())
        figures |= _min_median_max(
            (arrivals.times[-1] - began if arrivals.times else 0.0 for arrivals in cut_off),
            "cut_off_closed_after_s_",
        )
        figures |= _min_median_max(
            (len(arrivals.indices) for arrivals in cut_off), "cut_off_after_events_"
        )
        figures |= _min_median_max(
            (
                (len(arrivals.indices) - 1) / (arrivals.times[-1] - arrivals.times[0])
                if len(arrivals.times) > 1 and arrivals.times[-1] > arrivals.times[0]
                else 0.0
                for arrivals in cut_off
            ),
            "cut_off_received_per_s_",
        )
    latencies = [s * 1000 for s in reception.latencies(latency_from)]
    spreads = [s * 1000 for s in reception.spreads(counted)]
    if latencies:
        figures |= distribution(latencies, "latency_ms_")
    if spreads:
        figures |= distribution(spreads, "spread_ms_")
    return figures


def _min_median_max(values: Iterable[float], prefix: str) -> dict[str, float]:
    """The lowest, the median (nearest rank) and the highest of ``values`` (at least one)."""
    ordered = sorted(values)
    return {
        f"{prefix}min": float(ordered[0]),
        f"{prefix}p50": float(ordered[math.ceil(len(ordered) / 2) - 1]),
        f"{prefix}max": float(ordered[-1]),
    }


def _carried(figures: dict[str, float]) -> bool:
    """The goal: every one of 100 subscribers received every event, at 2,000 events a second."""
    return figures["subscribers"] >= GOAL_SUBSCRIBERS and _kept_up(figures)


def _kept_up(figures: dict[str, float]) -> bool:
    """Every subscriber, however many, received every event at the goal's rate."""
    return (
        figures["events_per_s"] >= GOAL_RATE_SHARE * GOAL_EVENTS_PER_SECOND
        and figures["missed"] == 0
        and figures["cut_off"] == 0
        and figures["broken"] == 0
    )


def _baseline(directory: Path, plan: Plan, size: int, seconds: float) -> dict[str, float]:
    """The raw broadcast of the goal's rate for ``seconds``, in messages of ``size``, to as
    many subscribers as the daemon had."""
    directory.mkdir()
    rate = float(GOAL_EVENTS_PER_SECOND)
    count = max(1, round(rate * seconds))
    reception, published = broadcast_baseline(
        directory,
        PICOWS_SERVER,
        subscriber_count=plan.subscribers,
        processes=plan.processes,
        rate=rate,
        size=size,
        count=count,
    )
    if not reception.texts:
        raise BenchmarkFailed(f"no broadcast message reached any of {plan.subscribers} subscribers")
    return _deliveries(reception, published, published, count / rate, count - len(published))


def _notes(
    plan: Plan,
    submitted: Submitted,
    figures: dict[str, float],
    baseline: dict[str, float],
    *,
    latency_steady: bool,
) -> tuple[str, ...]:
    notes = [
        f"{plan.stream.orders} TWAPs submitted in {submitted.finished - submitted.started:.1f} s; "
        f"{figures['fills_per_s']:.0f} fills/s (each a TradeRequest and a TradeFill) in the "
        f"steady window, {figures['events_per_s']:.0f} events/s of it reached a subscriber",
        f"daemon: {_delivered(figures)}",
        f"baseline, the raw picows server at {GOAL_EVENTS_PER_SECOND} events/s: "
        f"{_delivered(baseline)}; so this machine "
        + ("can" if _kept_up(baseline) else "cannot")
        + f" carry the goal's rate to {plan.subscribers} subscribers without the daemon",
        "latency: from the simulator handing the report to quickfix (baseline: from publishing) "
        "to each subscriber's receipt (time.time(), one host); spread: each receipt less the "
        "earliest receipt of the same message",
    ]
    if not latency_steady:
        notes.append(
            "no TradeFill of the steady window reached a subscriber: the daemon's latency is "
            "over every TradeFill received, outside the window"
            if "latency_ms_p50" in figures
            else "no TradeFill reached a subscriber: the daemon has no latency figures"
        )
    return tuple(notes)


def _delivered(figures: dict[str, float]) -> str:
    """What the subscribers got, in a line: their rate, drops and cut-offs."""
    line = (
        f"a median subscriber received {figures['received_per_s_p50']:.0f} events/s, "
        f"{figures['missed']:.0f} messages missed over "
        f"{figures['incomplete_subscribers']:.0f} subscribers, "
        f"{figures['cut_off']:.0f} of {figures['subscribers']:.0f} cut off as too slow"
    )
    if figures["cut_off"]:
        line += (
            f" (a median one closed after {figures['cut_off_closed_after_s_p50']:.1f} s and "
            f"{figures['cut_off_after_events_p50']:.0f} messages, received at "
            f"{figures['cut_off_received_per_s_p50']:.0f} a second until then)"
        )
    if figures["broken"]:
        line += f", {figures['broken']:.0f} connections ended otherwise (dropped, or a failure)"
    return line
