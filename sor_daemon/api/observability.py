"""``GET /health`` and ``GET /metrics``: what a service manager, a load balancer and Prometheus
ask the daemon.

``/health`` is readiness: 200 when the EMS session and the market-data session are logged on
and the journal can write, 503 with the same JSON body otherwise, so a probe needs no parsing
and an operator sees which part is down. ``/health/live`` is liveness: 200 whenever the loop
answers at all. The kill switch is reported (``halted``) but does not make the daemon unready:
a halted daemon is doing what it was told, and must stay reachable to be resumed. Nor do FIX
order-entry clients (``order_entry``, each client's session by its CompID): a client that is
not logged on is its own business, and reported only.
``/metrics`` is the Prometheus text format from the daemon's own registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import attrs
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sor_daemon.api.responses import json_response
from sor_daemon.engine.engine import Engine
from sor_daemon.ops.metrics import DaemonMetrics, is_halted
from sor_daemon.store.journal import Journal


class Session(Protocol):
    """A session the health reports on (the market-data session, an order-entry client's)."""

    @property
    def is_up(self) -> bool:
        """True while logged on."""
        ...


@attrs.frozen
class Observability:
    """What the health and metrics endpoints read."""

    engine: Engine
    market_data: Session
    journal: Journal
    metrics: DaemonMetrics
    order_entry: Mapping[str, Session] = attrs.Factory(dict)

    def health(self) -> tuple[bool, dict[str, object]]:
        """Whether the daemon is ready, and the parts' states (order entry's only when on)."""
        ems_up = self.engine.services.gateway.is_up
        md_up = self.market_data.is_up
        journal_open = self.journal.is_open
        ready = ems_up and md_up and journal_open
        body: dict[str, object] = {
            "status": "ok" if ready else "degraded",
            "ems_session": _up(ems_up),
            "market_data_session": _up(md_up),
            "journal": "open" if journal_open else "closed",
            "halted": is_halted(self.engine),
        }
        if self.order_entry:
            body["order_entry"] = {name: _up(s.is_up) for name, s in self.order_entry.items()}
        return ready, body

    def routes(self) -> list[Route]:
        """``/health``, ``/health/live`` and ``/metrics``."""
        return [
            Route("/health", self._health, methods=["GET"]),
            Route("/health/live", self._live, methods=["GET"]),
            Route("/metrics", self._metrics, methods=["GET"]),
        ]

    async def _health(self, request: Request) -> Response:
        ready, body = self.health()
        return json_response(body, 200 if ready else 503)

    async def _live(self, request: Request) -> Response:
        return json_response({"status": "alive"})

    async def _metrics(self, request: Request) -> Response:
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _up(up: bool) -> str:
    return "up" if up else "down"
