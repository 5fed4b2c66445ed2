"""Child orders counted without prometheus_client's locks read back exactly as its own
``Counter`` and ``Histogram`` would expose the same counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from sor_daemon.ops.metrics import LATENCY_BUCKETS, DaemonMetrics

SECONDS = (0.0004, 0.001, 0.001, 0.0049, 0.02, 0.7, 3.0, 10.0, 11.5)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_the_tally_reads_back_as_prometheus_own_counter_and_histogram() -> None:
    metrics = DaemonMetrics()
    registry = CollectorRegistry()
    outcomes = Counter(
        "sor_child_orders", "Child orders", ["exchange", "outcome"], registry=registry
    )
    latency = Histogram(
        "sor_fill_latency_seconds",
        "Sent to first fill",
        ["exchange"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    for exchange, outcome in [("KRAKEN", "sent")] * 3 + [("BINANCE", "rejected")]:
        metrics.child_orders.count(exchange, outcome)
        outcomes.labels(exchange, outcome).inc()
    for number, seconds in enumerate(SECONDS):
        exchange = "KRAKEN" if number % 3 else "BINANCE"
        metrics.child_orders.fill_latency(exchange, seconds)
        latency.labels(exchange).observe(seconds)

    ours = samples(metrics.exposition().decode())
    expected = samples(generate_latest(registry).decode())
    assert {key: ours[key] for key in expected} == expected
    kraken_by_a_millisecond = (("exchange", "KRAKEN"), ("le", "0.001"))
    assert ours[("sor_fill_latency_seconds_bucket", kraken_by_a_millisecond)] == 2
