"""The WebSocket feed at /v1/sor/ws: commands in, every order's events out.

Each connection subscribes to the engine's feed with its own bounded queue and a writer task
that drains it, so a client that stops reading is cut off (closed with a reason) instead of
stalling anyone. Its own Rejects go through the same queue, in order with the feed.
"""

from __future__ import annotations

import contextlib

import structlog
import trio
from starlette.websockets import WebSocket, WebSocketDisconnect

from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed, Subscription
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
MAX_MESSAGE_BYTES = 64 * 1024


class FeedSocket:
    """Serves one WebSocket connection at a time per call; shares the engine and the feed."""

    def __init__(self, engine: Engine, feed: Feed) -> None:
        self._engine = engine
        self._feed = feed

    async def serve(self, websocket: WebSocket) -> None:
        """Serve one connection until the client leaves or is cut off."""
        await websocket.accept()
        log.info("feed client connected", client=str(websocket.client))
        with self._feed.subscribe() as subscription:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write, websocket, subscription, nursery.cancel_scope)
                with contextlib.suppress(WebSocketDisconnect):
                    await self._read(websocket, subscription)
                nursery.cancel_scope.cancel()
        log.info("feed client gone", client=str(websocket.client), dropped=subscription.dropped)

    async def _write(
        self, websocket: WebSocket, subscription: Subscription, scope: trio.CancelScope
    ) -> None:
        async for text in subscription.messages:
            await websocket.send_text(text)
        if subscription.dropped:
            log.warning("feed client too slow, disconnecting", client=str(websocket.client))
            await websocket.close(CLOSE_TOO_SLOW, "too slow: the feed queue overflowed")
        scope.cancel()

    async def _read(self, websocket: WebSocket, subscription: Subscription) -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text") or message.get("bytes") or ""
            await self._command(raw, subscription)

    async def _command(self, raw: str | bytes, subscription: Subscription) -> None:
        composite_id = None
        try:
            if len(raw) > MAX_MESSAGE_BYTES:
                raise ProtocolError(
                    "INVALID_PARAMETER", f"the message is over {MAX_MESSAGE_BYTES} bytes"
                )
            command = parse_ws_message(raw)
            composite_id = getattr(command, "id", None)
            await self._execute(command)
        except ProtocolError as error:
            subscription.offer(dumps(Reject.from_error(error, raw, composite_id)))

    async def _execute(self, command: InboundMessage) -> None:
        match command:
            case NewSmartOrder():
                await self._engine.submit(command)
            case CancelSmartOrder():
                await self._engine.cancel(command.id)
            case ChangeParameters():
                await self._engine.change(command.id, command.parameters)
