"""``ChildOrderTally``: child orders by venue and outcome, and their time from sent to first fill,
counted in plain Python and read when ``/metrics`` is scraped.

prometheus_client's ``Counter`` and ``Histogram`` take a lock on every increment, so that any
thread may count. Child orders are counted on the Trio thread only, three times a child, and
scraped there too: under the throughput benchmark those locked increments took about 4% of the
Trio thread (py-spy). Counted here without a lock, they are exposed under the same names, labels
and buckets.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class ChildOrderTally(Collector):
    """Counts ``MeteredGateway`` keeps on the Trio thread, collected on the same thread."""

    def __init__(self, latency_buckets: Sequence[float]) -> None:
        self._bounds = tuple(latency_buckets)
        self._outcomes: Counter[tuple[str, str]] = Counter()
        self._latency_counts: dict[str, list[int]] = {}
        self._latency_sums: dict[str, float] = {}

    def count(self, exchange: str, outcome: str) -> None:
        """One child order on ``exchange`` reached ``outcome`` (sent, filled or rejected)."""
        self._outcomes[exchange, outcome] += 1

    def fill_latency(self, exchange: str, seconds: float) -> None:
        """One child order on ``exchange`` filled first ``seconds`` after it was sent."""
        counts = self._latency_counts.get(exchange)
        if counts is None:
            counts = self._latency_counts[exchange] = [0] * (len(self._bounds) + 1)
        counts[bisect_left(self._bounds, seconds)] += 1
        self._latency_sums[exchange] = self._latency_sums.get(exchange, 0.0) + seconds

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        """The two metrics as Prometheus families: ``sor_child_orders_total`` by exchange and
        outcome, and the ``sor_fill_latency_seconds`` histogram by exchange."""
        outcomes = CounterMetricFamily(
            "sor_child_orders",
            "Child orders by venue and outcome: sent, filled (its first fill), rejected",
            labels=["exchange", "outcome"],
        )
        for (exchange, outcome), count in sorted(self._outcomes.items()):
            outcomes.add_metric([exchange, outcome], count)
        yield outcomes
        latency = HistogramMetricFamily(
            "sor_fill_latency_seconds",
            "From a child order sent to its first fill",
            labels=["exchange"],
        )
        for exchange, counts in sorted(self._latency_counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*self._bounds, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append((floatToGoString(bound), cumulative))
            latency.add_metric([exchange], buckets, self._latency_sums[exchange])
        yield latency
