"""Input limits of the API: how big a request or a message may be, how many feed connections,
how many running smart orders a key may have, how far a slow feed client may fall behind.

Every default keeps what the daemon did before there were limits: a limit left unset (None) is
no limit.
"""

from __future__ import annotations

import attrs
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sor_daemon.api.responses import error_response


@attrs.frozen
class ApiLimits:
    """The API's limits (the ``[api]`` config table extends this)."""

    max_body_bytes: int = 64 * 1024
    max_message_bytes: int = 64 * 1024
    max_connections: int | None = None
    max_open_orders_per_key: int | None = None
    feed_queue_size: int = 4096


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once the body has grown past the limit."""


class BodyLimitMiddleware:
    """Answers 413 with a JSON body to a request whose body is over ``max_bytes``: at once when
    Content-Length says so, else as soon as the streamed body grows past it, so an oversized
    body is never held in memory whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        answering = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal answering
            answering = answering or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, limited_receive, watched_send)
        except _BodyTooLarge:
            if answering:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is over the limit of {self._max_bytes} bytes"
        await error_response("BODY_TOO_LARGE", message, 413)(scope, receive, send)
