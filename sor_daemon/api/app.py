"""The Starlette application: REST under /v1/sor, the feed at /v1/sor/ws, /health, and the
dashboard page at / (``sor_daemon.dashboard``), behind the API-key check (``api.auth``) and the
request body limit."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp

from sor_daemon.api.admin import admin_routes
from sor_daemon.api.auth import AuthMiddleware
from sor_daemon.api.desk import Desk
from sor_daemon.api.feed_socket import FeedSocket
from sor_daemon.api.keys import KeyTable
from sor_daemon.api.limits import ApiLimits, BodyLimitMiddleware
from sor_daemon.api.message_writer import keep_server_send
from sor_daemon.api.observability import Observability
from sor_daemon.api.rest import RestApi
from sor_daemon.dashboard import dashboard_routes
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.ports import AccountSource

PREFIX = "/v1/sor"


def build_app(
    engine: Engine,
    account: AccountSource,
    keys: KeyTable,
    limits: ApiLimits,
    observability: Observability,
) -> ASGIApp:
    """The one ASGI app the daemon serves; ``keys`` may be swapped later (a reload);
    ``observability`` answers /health and /metrics. The feed's WebSockets keep the server's own
    ``send`` (``message_writer.keep_server_send``), to write several messages at once."""
    desk = Desk(engine, limits.max_open_orders_per_key)
    rest = RestApi(desk, account)
    feed_socket = FeedSocket(desk, engine.services.feed, limits)

    starlette = Starlette(
        routes=[
            Route(f"{PREFIX}/requests", rest.requests, methods=["GET"]),
            Route(f"{PREFIX}/requests/{{order_id}}", rest.request_by_id, methods=["GET"]),
            Route(f"{PREFIX}/balances", rest.balances, methods=["GET"]),
            Route(f"{PREFIX}/orders", rest.orders, methods=["GET"]),
            Route(f"{PREFIX}/positions", rest.positions, methods=["GET"]),
            Route(f"{PREFIX}/add", rest.add, methods=["POST"]),
            Route(f"{PREFIX}/cancel/{{order_id}}", rest.cancel, methods=["POST"]),
            Route(f"{PREFIX}/update", rest.update, methods=["PUT"]),
            *admin_routes(engine, PREFIX),
            WebSocketRoute(f"{PREFIX}/ws", feed_socket.serve),
            *observability.routes(),
            *dashboard_routes(),
        ],
        middleware=[
            Middleware(AuthMiddleware, keys=keys),
            Middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes),
        ],
    )
    return keep_server_send(starlette)
