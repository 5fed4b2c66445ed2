"""The daemon's two doors: REST under /v1/sor with httpx, the feed at /v1/sor/ws with
trio-websocket. Every failure leaves as a DaemonError carrying a sentence for the operator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from sor_daemon.ctl.settings import Server

REST_TIMEOUT_SECONDS = 15
FEED_QUEUE_SIZE = 4096


class DaemonError(Exception):
    """The daemon refused a request or could not be reached; ``str()`` is the sentence to show."""


def decode(text: str | bytes) -> Any:
    """JSON with exact decimals, so amounts and prices are not rounded through floats."""
    return json.loads(text, parse_float=Decimal)


class RestClient:
    """Calls the SOR's REST endpoints and returns their decoded JSON answers."""

    def __init__(self, http: httpx.AsyncClient, server: Server) -> None:
        self._http = http
        self._server = server

    async def call(self, method: str, path: str, body: object | None = None) -> Any:
        """``method path`` with an optional JSON body; the decoded answer, or DaemonError."""
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise DaemonError(
                f"cannot reach the daemon at {self._server.url}: {_describe(error)}"
            ) from None
        try:
            answer = decode(response.content) if response.content else None
        except ValueError:
            answer = None
        if response.is_success:
            return answer
        if isinstance(answer, dict) and isinstance(answer.get("message"), str):
            raise DaemonError(answer["message"])
        raise DaemonError(
            f"the daemon answered {response.status_code} {response.reason_phrase} to "
            f"{method} {path}"
        )


@asynccontextmanager
async def open_rest(server: Server) -> AsyncIterator[RestClient]:
    """A RestClient on one pooled HTTP connection, closed on exit."""
    async with httpx.AsyncClient(
        base_url=server.rest_url, headers=server.headers(), timeout=REST_TIMEOUT_SECONDS
    ) as http:
        yield RestClient(http, server)


class Feed:
    """One WebSocket connection to the feed: send commands, receive every order's events."""

    def __init__(self, connection: WebSocketConnection) -> None:
        self._connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        """Send one command as JSON."""
        try:
            await self._connection.send_message(json.dumps(message))
        except ConnectionClosed as error:
            raise DaemonError(_closed(error)) from None

    async def receive(self) -> tuple[str, dict[str, Any]]:
        """The next message, both as received (for ``--json``) and decoded."""
        try:
            text = await self._connection.get_message()
        except ConnectionClosed as error:
            raise DaemonError(_closed(error)) from None
        raw = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
        return raw, decode(raw)


@asynccontextmanager
async def open_feed(server: Server) -> AsyncIterator[Feed]:
    """Connect to the feed; DaemonError if the daemon cannot be reached or refuses."""
    headers = [(key.lower().encode(), value.encode()) for key, value in server.headers().items()]
    try:
        async with open_websocket_url(
            server.ws_url, extra_headers=headers, message_queue_size=FEED_QUEUE_SIZE
        ) as connection:
            yield Feed(connection)
    except (OSError, HandshakeError) as error:
        raise DaemonError(f"cannot open the feed at {server.ws_url}: {_describe(error)}") from None


def _closed(error: ConnectionClosed) -> str:
    reason = error.reason
    detail = f" ({reason.code} {reason.reason})" if reason and reason.reason else ""
    return f"the daemon closed the feed{detail}"


def _describe(error: BaseException) -> str:
    """An exception as words: its own, else its cause's (trio-websocket's HandshakeError wraps
    the OSError that says what went wrong), else its type's name."""
    if not str(error) and error.__cause__ is not None:
        return _describe(error.__cause__)
    return str(error) or type(error).__name__
