"""``MeteredGateway``: the EMS gateway with child orders counted by venue and outcome.

It sits between the engine and the FIX gateway and implements the same ``OrderGateway`` port:
what it sends it counts, and the engine reads the gateway's events through it (``events``), so
the time from a child sent to its first fill is measured on the wire side of the engine. It
reads them in the engine's own task rather than relaying them from a task of its own: every
hop between tasks is another turn of the scheduler for a report to wait, under load.
Children sent before a restart are not followed (their send time is gone).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import trio

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.smart_order import ChildOrder
from sor_daemon.domain.values import ChildReport, ChildStatus
from sor_daemon.engine.ports import GatewayEvent, OrderGateway
from sor_daemon.ops.metrics import DaemonMetrics


class MeteredGateway:
    """An ``OrderGateway`` that counts; ``events()`` is what the engine reads instead."""

    def __init__(
        self,
        gateway: OrderGateway,
        gateway_events: trio.MemoryReceiveChannel[GatewayEvent],
        metrics: DaemonMetrics,
    ) -> None:
        self._gateway = gateway
        self._gateway_events = gateway_events
        self._metrics = metrics
        self._open: dict[str, tuple[str, float]] = {}

    @property
    def is_up(self) -> bool:
        """True while child orders can be sent."""
        return self._gateway.is_up

    def send_new(self, child: ChildPlanned) -> bool:
        """Send and count a child order; remember when, until its first fill or its end."""
        sent = self._gateway.send_new(child)
        if sent:
            self._metrics.child_orders.labels(child.exchange, "sent").inc()
            self._open[child.child_id] = (child.exchange, trio.current_time())
        return sent

    def request_status(self, child: ChildOrder) -> bool:
        """Ask the EMS where a child order stands."""
        return self._gateway.request_status(child)

    def mass_cancel(self, exchange: str) -> bool:
        """Ask the EMS to cancel every order on ``exchange`` (the kill switch)."""
        return self._gateway.mass_cancel(exchange)

    async def events(self) -> AsyncIterator[GatewayEvent]:
        """The gateway's events, each counted as it passes (for one reader: the engine)."""
        async for event in self._gateway_events:
            if isinstance(event, ChildReport):
                self._observe(event)
            yield event

    def _observe(self, report: ChildReport) -> None:
        sent = self._open.get(report.child_id)
        if sent is None:
            return
        exchange, sent_at = sent
        if report.status is ChildStatus.REJECTED:
            self._metrics.child_orders.labels(exchange, "rejected").inc()
        elif report.cum_qty > 0:
            self._metrics.child_orders.labels(exchange, "filled").inc()
            self._metrics.fill_latency.labels(exchange).observe(trio.current_time() - sent_at)
        elif not report.status.terminal:
            return
        del self._open[report.child_id]
