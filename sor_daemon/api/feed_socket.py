"""The WebSocket feed at /v1/sor/ws: commands in, every order's events out.

Each connection subscribes to the engine's feed with its own bounded queue, and a writer
(``MessageWriter``) drains it: at the end of each turn that queued something, straight to the
socket, and from a task of its own when the socket is busy or full. A client that stops reading
is cut off (closed with a reason) instead of stalling anyone. Its own Rejects go through the
same queue, in order with the feed. A trader's connection gets only its own orders' events; a
connection over ``max_connections`` is refused at the handshake.
"""

from __future__ import annotations

import contextlib

import structlog
import trio
from starlette.websockets import WebSocket, WebSocketDisconnect

from sor_daemon.api.auth import principal_of
from sor_daemon.api.desk import Desk
from sor_daemon.api.keys import Principal
from sor_daemon.api.limits import ApiLimits
from sor_daemon.api.message_writer import MessageWriter
from sor_daemon.api.responses import refuse_websocket
from sor_daemon.engine.feed import Feed, FeedMessage, Subscription
from sor_daemon.protocol.codec import dumps, parse_ws_message
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import (
    CancelSmartOrder,
    ChangeParameters,
    InboundMessage,
    NewSmartOrder,
    Reject,
)

log = structlog.get_logger(__name__)

CLOSE_TOO_SLOW = 1008


class FeedSocket:
    """Serves one WebSocket connection per call; shares the desk, the feed and the count of
    open connections."""

    def __init__(self, desk: Desk, feed: Feed, limits: ApiLimits) -> None:
        self._desk = desk
        self._feed = feed
        self._limits = limits
        self._connections = 0

    async def serve(self, websocket: WebSocket) -> None:
        """Serve one connection until the client leaves or is cut off."""
        limit = self._limits.max_connections
        if limit is not None and self._connections >= limit:
            log.warning("feed client refused: too many connections", client=str(websocket.client))
            message = f"the feed already has {limit} connections, its limit (api.max_connections)"
            await refuse_websocket(websocket, "TOO_MANY_CONNECTIONS", message, 503)
            return
        self._connections += 1
        try:
            await self._serve(websocket, principal_of(websocket))
        finally:
            self._connections -= 1

    async def _serve(self, websocket: WebSocket, principal: Principal) -> None:
        await websocket.accept()
        log.info("feed client connected", client=str(websocket.client), key=principal.name)
        with self._feed.subscribe(self._desk.feed_origin(principal)) as subscription:
            writer = MessageWriter(websocket, subscription)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    self._write, websocket, writer, subscription, nursery.cancel_scope
                )
                with contextlib.suppress(WebSocketDisconnect):
                    await self._read(websocket, subscription, principal)
                nursery.cancel_scope.cancel()
        log.info("feed client gone", client=str(websocket.client), dropped=subscription.dropped)

    async def _write(
        self,
        websocket: WebSocket,
        writer: MessageWriter,
        subscription: Subscription,
        scope: trio.CancelScope,
    ) -> None:
        """Send every queued message in order (``MessageWriter``: what a turn queued, in one
        write at its end), then close as too slow if the feed cut this subscriber off."""
        await writer.run()
        if subscription.dropped:
            log.warning("feed client too slow, disconnecting", client=str(websocket.client))
            await websocket.close(CLOSE_TOO_SLOW, "too slow: the feed queue overflowed")
        scope.cancel()

    async def _read(
        self, websocket: WebSocket, subscription: Subscription, principal: Principal
    ) -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text") or message.get("bytes") or ""
            await self._command(raw, subscription, principal)

    async def _command(
        self, raw: str | bytes, subscription: Subscription, principal: Principal
    ) -> None:
        composite_id = None
        limit = self._limits.max_message_bytes
        try:
            if len(raw) > limit:
                raise ProtocolError(
                    "INVALID_PARAMETER",
                    f"the message is over the limit of {limit} bytes (api.max_message_bytes)",
                )
            command = parse_ws_message(raw)
            composite_id = getattr(command, "id", None)
            await self._execute(command, principal)
        except ProtocolError as error:
            subscription.offer(FeedMessage(dumps(Reject.from_error(error, raw, composite_id))))

    async def _execute(self, command: InboundMessage, principal: Principal) -> None:
        match command:
            case NewSmartOrder():
                await self._desk.submit(principal, command)
            case CancelSmartOrder():
                await self._desk.cancel(principal, command.id)
            case ChangeParameters():
                await self._desk.change(principal, command.id, command.parameters)
