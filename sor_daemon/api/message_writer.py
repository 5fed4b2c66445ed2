"""Writing a WebSocket's queued messages in one socket write, under hypercorn.

ASGI sends one message per call, and hypercorn writes each message to the socket by itself,
passing through Trio's scheduler on the way (a lock and the write are each a checkpoint). So a
feed writer got one message out per turn of the scheduler. Under load a turn runs every task
that woke, and is long: at 2,000 fills a second a subscriber received about a hundred messages
a second, its queue overflowed and it was cut off as too slow, though it read all it was sent.

Under hypercorn, the ``send`` an ASGI app is handed for a WebSocket is the method of hypercorn's
stream for that connection. ``keep_server_send`` puts it in the scope; ``MessageWriter`` frames
each message with the stream's own wsproto connection (so compression, if the client asked for
it, still applies) and hands hypercorn all the frames as one write. Where that stream is not
there (another server) or not open, it sends message by message through ASGI, as before.

A client that asked for no extension (no compression) gets plain frames, and a plain frame of a
message is the same bytes for every such client: it is made once per message, by the first
writer that needs it, and kept on the shared ``FeedMessage``. With a hundred subscribers that
spared framing each message a hundred times over.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypercorn.protocol.events import Data
from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from wsproto.connection import ConnectionState
from wsproto.events import TextMessage
from wsproto.frame_protocol import FrameProtocol

from sor_daemon.engine.feed import FeedMessage

SERVER_SEND = "sor_daemon.server_send"
"""The scope key under which ``keep_server_send`` keeps the server's own ``send``."""


def keep_server_send(app: ASGIApp) -> ASGIApp:
    """``app``, with each WebSocket scope carrying the ``send`` the server handed over (before
    any middleware wraps it)."""

    async def with_server_send(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await app(scope, receive, send)

    return with_server_send


class MessageWriter:
    """Sends feed messages on one WebSocket, as many as are given in one write when it can."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        stream = getattr(websocket.scope.get(SERVER_SEND), "__self__", None)
        self._stream = stream if isinstance(stream, WSStream) else None
        self._plain = self._stream is not None and self._stream.handshake.extensions is None
        """The client offered no extension, so none is in use on the connection."""

    async def send(self, messages: Sequence[FeedMessage]) -> None:
        """Send ``messages`` in order, each its own WebSocket text message."""
        stream = self._stream
        if stream is None or stream.closed or stream.state is not ASGIWebsocketState.CONNECTED:
            for message in messages:
                await self._websocket.send_text(message.text)
            return
        connection = stream.connection
        if connection.state is not ConnectionState.OPEN:
            return  # the connection is closing: hypercorn drops what is sent then, too
        if self._plain:
            frames = b"".join([plain_frame(message) for message in messages])
        else:
            frames = b"".join([connection.send(TextMessage(data=m.text)) for m in messages])
        await stream.send(Data(stream_id=stream.stream_id, data=frames))


_PLAIN_FRAMES = FrameProtocol(client=False, extensions=[])
"""Frames as a server sends them with no extension. Whole messages leave it in no state."""


def plain_frame(message: FeedMessage) -> bytes:
    """``message`` as one unmasked, uncompressed text frame; made once, kept on the message."""
    if message.wire is None:
        message.wire = bytes(_PLAIN_FRAMES.send_data(message.text))
    return message.wire
