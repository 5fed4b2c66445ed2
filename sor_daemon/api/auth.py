"""Who may call what: the route → role policy and the ASGI middleware that enforces it.

A key is presented as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; a WebSocket may also
carry it as ``?api_key=KEY``, because a browser cannot set headers on one. (REST does not read the
query: URLs end up in logs and proxies.) A call without a valid key is answered 401, a key whose
role is too low 403, both with the usual ``{"error", "message"}`` body; a WebSocket is refused at
the handshake with the same status and body, before it is accepted. What a key may do *inside*
an allowed route (a trader sees and changes only its own orders) is ``api.desk``'s business.
"""

from __future__ import annotations

import re

import attrs
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from sor_daemon.api.keys import OPEN_PRINCIPAL, KeyTable, Principal, Role
from sor_daemon.api.responses import error_response, refuse_websocket

SCOPE_KEY = "sor_daemon.principal"
WEBSOCKET = "WEBSOCKET"


@attrs.frozen
class Rule:
    """``method path`` (a Starlette path template) needs ``role``; None means open to all."""

    method: str
    path: str
    role: Role | None
    pattern: re.Pattern[str] = attrs.field(init=False)

    @pattern.default
    def _compile(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", self.path) + "$")

    def matches(self, method: str, path: str) -> bool:
        """True when this rule covers ``method path``."""
        return method == self.method and self.pattern.match(path) is not None


POLICY: tuple[Rule, ...] = (
    Rule("GET", "/health", None),
    Rule("GET", "/health/live", None),
    Rule("GET", "/", None),
    Rule("GET", "/static/{file}", None),
    Rule("GET", "/metrics", Role.VIEWER),
    Rule("GET", "/v1/sor/requests", Role.VIEWER),
    Rule("GET", "/v1/sor/requests/{order_id}", Role.VIEWER),
    Rule("GET", "/v1/sor/balances", Role.VIEWER),
    Rule("GET", "/v1/sor/orders", Role.VIEWER),
    Rule("GET", "/v1/sor/positions", Role.VIEWER),
    Rule(WEBSOCKET, "/v1/sor/ws", Role.VIEWER),
    Rule("POST", "/v1/sor/add", Role.TRADER),
    Rule("POST", "/v1/sor/cancel/{order_id}", Role.TRADER),
    Rule("PUT", "/v1/sor/update", Role.TRADER),
    Rule("POST", "/v1/sor/halt", Role.ADMIN),
    Rule("POST", "/v1/sor/resume", Role.ADMIN),
)
"""Every route and the least role that may call it. A route not listed needs admin, so a new
route is closed until someone decides who may call it. The dashboard's page and files are open
(they hold no data; the page asks for a key itself). The feed socket needs viewer to connect;
New, Cancel and ParamChange on it need trader, checked per message."""


def required_role(method: str, path: str, policy: tuple[Rule, ...] = POLICY) -> Role | None:
    """The least role ``method path`` needs (None: open); HEAD is treated as GET."""
    method = "GET" if method == "HEAD" else method
    for rule in policy:
        if rule.matches(method, path):
            return rule.role
    return Role.ADMIN


def principal_of(connection: HTTPConnection) -> Principal:
    """The caller the middleware let through (only set on routes that need a role)."""
    return connection.scope[SCOPE_KEY]


def presented_key(connection: HTTPConnection) -> str | None:
    """The key the caller sent: Bearer, else X-API-Key, else (WebSocket only) ``api_key``."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if key := connection.headers.get("x-api-key", "").strip():
        return key
    if connection.scope["type"] == "websocket":
        return connection.query_params.get("api_key") or None
    return None


class AuthMiddleware:
    """Lets a call through only with a key whose role the policy asks for; puts the caller's
    Principal in the scope for the handlers."""

    def __init__(self, app: ASGIApp, keys: KeyTable, policy: tuple[Rule, ...] = POLICY) -> None:
        self._app = app
        self._keys = keys
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        method = WEBSOCKET if scope["type"] == "websocket" else scope["method"]
        role = required_role(method, scope["path"], self._policy)
        if role is None:
            await self._app(scope, receive, send)
            return
        refusal = self._check(HTTPConnection(scope), method, role)
        if isinstance(refusal, Principal):
            await self._app({**scope, SCOPE_KEY: refusal}, receive, send)
        elif scope["type"] == "websocket":
            await refuse_websocket(WebSocket(scope, receive, send), *refusal)
        else:
            await error_response(*refusal)(scope, receive, send)

    def _check(
        self, connection: HTTPConnection, method: str, role: Role
    ) -> Principal | tuple[str, str, int]:
        """The caller, or why not as (error, sentence, status)."""
        if self._keys.open:
            return OPEN_PRINCIPAL
        key = presented_key(connection)
        if key is None:
            how = "Authorization: Bearer KEY or X-API-Key: KEY"
            if connection.scope["type"] == "websocket":
                how += " (or ?api_key=KEY)"
            return "UNAUTHORIZED", f"an API key is required: send it as {how}", 401
        principal = self._keys.authenticate(key)
        if principal is None:
            return "UNAUTHORIZED", "the API key is not valid", 401
        if principal.role < role:
            return (
                "FORBIDDEN",
                f"the key {principal.name!r} is a {principal.role.label}; "
                f"{method} {connection.url.path} needs {role.label}",
                403,
            )
        return principal
