"""The Starlette application: REST under /v1/sor, the feed at /v1/sor/ws, and /health."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from sor_daemon.api.feed_socket import FeedSocket
from sor_daemon.api.responses import json_response
from sor_daemon.api.rest import RestApi
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.ports import AccountSource

PREFIX = "/v1/sor"


def build_app(engine: Engine, account: AccountSource) -> Starlette:
    """The one ASGI app the daemon serves."""
    rest = RestApi(engine, account)

    async def health(request: Request) -> Response:
        ems_up = engine.services.gateway.is_up
        return json_response(
            {"status": "ok" if ems_up else "degraded", "ems_session": "up" if ems_up else "down"}
        )

    return Starlette(
        routes=[
            Route(f"{PREFIX}/requests", rest.requests, methods=["GET"]),
            Route(f"{PREFIX}/balances", rest.balances, methods=["GET"]),
            Route(f"{PREFIX}/orders", rest.orders, methods=["GET"]),
            Route(f"{PREFIX}/positions", rest.positions, methods=["GET"]),
            Route(f"{PREFIX}/add", rest.add, methods=["POST"]),
            Route(f"{PREFIX}/cancel/{{order_id}}", rest.cancel, methods=["POST"]),
            Route(f"{PREFIX}/update", rest.update, methods=["PUT"]),
            WebSocketRoute(f"{PREFIX}/ws", FeedSocket(engine, engine.services.feed).serve),
            Route("/health", health, methods=["GET"]),
        ]
    )
