"""``MeteredGateway``: the EMS gateway with child orders counted by venue and outcome.

It sits between the engine and the FIX gateway and implements the same ``OrderGateway`` port:
what it sends it counts, and the gateway's events pass through it on their way to the engine
(``news``), so the time from a child sent to its first fill is measured on the wire side of the
engine. They pass on the same turn: every hop between tasks is another turn of the scheduler
for a report to wait, under load. Children sent before a restart are not followed (their send
time is gone).
"""

from __future__ import annotations

import trio

from sor_daemon.domain.children import ChildOrder
from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.values import ChildReport, ChildStatus
from sor_daemon.engine.ports import GatewayEvent, GatewayNews, OrderGateway
from sor_daemon.engine.relay import Relay
from sor_daemon.ops.metrics import DaemonMetrics


class MeteredGateway:
    """An ``OrderGateway`` that counts; its ``news`` is what the engine listens to instead."""

    def __init__(
        self, gateway: OrderGateway, gateway_news: GatewayNews, metrics: DaemonMetrics
    ) -> None:
        self._gateway = gateway
        self._tally = metrics.child_orders
        self._open: dict[str, tuple[str, float]] = {}
        self.news = Relay[GatewayEvent]()
        gateway_news.listen(self._pass_on)

    @property
    def is_up(self) -> bool:
        """True while child orders can be sent."""
        return self._gateway.is_up

    def send_new(self, child: ChildPlanned) -> bool:
        """Send and count a child order; remember when, until its first fill or its end."""
        sent = self._gateway.send_new(child)
        if sent:
            self._tally.count(child.exchange, "sent")
            self._open[child.child_id] = (child.exchange, trio.current_time())
        return sent

    def request_status(self, child: ChildOrder) -> bool:
        """Ask the EMS where a child order stands."""
        return self._gateway.request_status(child)

    def mass_cancel(self, exchange: str) -> bool:
        """Ask the EMS to cancel every order on ``exchange`` (the kill switch)."""
        return self._gateway.mass_cancel(exchange)

    def _pass_on(self, event: GatewayEvent) -> None:
        """Count a report as it passes, and hand the event on."""
        if isinstance(event, ChildReport):
            self._observe(event)
        self.news.publish(event)

    def _observe(self, report: ChildReport) -> None:
        sent = self._open.get(report.child_id)
        if sent is None:
            return
        exchange, sent_at = sent
        if report.status is ChildStatus.REJECTED:
            self._tally.count(exchange, "rejected")
        elif report.cum_qty > 0:
            self._tally.count(exchange, "filled")
            self._tally.fill_latency(exchange, trio.current_time() - sent_at)
        elif not report.status.terminal:
            return
        del self._open[report.child_id]
