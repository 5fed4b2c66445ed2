"""The daemon's Prometheus metrics, in a registry of its own (several daemons in one test process
must not share counters).

Events are counted where they happen (child orders through ``MeteredGateway`` into a
``ChildOrderTally``, journal commits through the journal's observer); state is read when
scraped (smart orders by status, FIX sessions and their sequence numbers, WebSocket
subscribers), so it can never drift from the truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.ops.child_tally import ChildOrderTally

GC_WALKS = ("new", "complete")
"""The ``walk`` label of ``sor_gc_pause_seconds``, indexed by whether the walk was complete."""
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class FixSession(Protocol):
    """A FIX session as the metrics read it (``EmsGateway``, ``MarketDataSession``, an
    order-entry ``ClientSession``)."""

    @property
    def is_up(self) -> bool:
        """True while logged on."""
        ...

    @property
    def sequence_numbers(self) -> tuple[int, int] | None:
        """The next outgoing and next expected incoming MsgSeqNum, or None when unknown."""
        ...


class DaemonMetrics:
    """Counters and histograms the daemon feeds, and the text ``GET /metrics`` answers."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.child_orders = ChildOrderTally(LATENCY_BUCKETS)
        self.registry.register(self.child_orders)
        self.journal_commit = Histogram(
            "sor_journal_commit_seconds",
            "One journal transaction (a group commit, fsync included)",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.gc_pause = Histogram(
            "sor_gc_pause_seconds",
            "One collection by the daemon's garbage collector, which every task waits out; "
            "walk is new (what was allocated since the last) or complete (the whole heap)",
            ["walk"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        for walk in GC_WALKS:
            self.gc_pause.labels(walk=walk)

    def observe_gc_pause(self, seconds: float, complete: bool) -> None:
        """Count one collection of the daemon's collector (``gc_policy.GrowthCollector``)."""
        self.gc_pause.labels(walk=GC_WALKS[complete]).observe(seconds)

    def read_state(self, engine: Engine, sessions: dict[str, FixSession], feed: Feed) -> None:
        """Read the engine, the FIX sessions (by name) and the feed at every scrape."""
        self.registry.register(_StateCollector(engine, sessions, feed))

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """Gauges read from the daemon's state when scraped."""

    def __init__(self, engine: Engine, sessions: dict[str, FixSession], feed: Feed) -> None:
        self._engine = engine
        self._sessions = sessions
        self._feed = feed

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        orders = GaugeMetricFamily("sor_smart_orders", "Smart orders by status", labels=["status"])
        for status, count in sorted(self._engine.status_counts().items()):
            orders.add_metric([status], count)
        yield orders
        up = GaugeMetricFamily("sor_fix_session_up", "1 while logged on", labels=["session"])
        sender = GaugeMetricFamily(
            "sor_fix_next_sender_seq_num", "Next outgoing MsgSeqNum", labels=["session"]
        )
        target = GaugeMetricFamily(
            "sor_fix_next_target_seq_num", "Next expected incoming MsgSeqNum", labels=["session"]
        )
        for name, session in self._sessions.items():
            up.add_metric([name], int(session.is_up))
            numbers = session.sequence_numbers
            if numbers is not None:
                sender.add_metric([name], numbers[0])
                target.add_metric([name], numbers[1])
        yield from (up, sender, target)
        yield GaugeMetricFamily(
            "sor_feed_subscribers", "WebSocket feed subscribers", value=self._feed.subscribers
        )
        yield CounterMetricFamily(
            "sor_feed_dropped_slow_consumers",
            "WebSocket subscribers cut off because their queue overflowed",
            value=self._feed.dropped,
        )
        yield GaugeMetricFamily(
            "sor_halted", "1 while the kill switch is on", value=int(is_halted(self._engine))
        )


def is_halted(engine: Engine) -> bool:
    """True while the kill switch stops all trading (the engine's ``halted``, or its risk
    gate's, whichever the engine has; a halt is any value but None and False)."""
    halted = getattr(engine, "halted", None)
    if halted is None:
        halted = getattr(getattr(engine.services, "risk", None), "halted", None)
    return halted is not None and halted is not False
