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
"""

from __future__ import annotations

from collections.abc import Sequence

from hypercorn.protocol.events import Data
from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from wsproto.events import TextMessage
from wsproto.utilities import LocalProtocolError

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
    """Sends text messages on one WebSocket, as many as are given in one write when it can."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        stream = getattr(websocket.scope.get(SERVER_SEND), "__self__", None)
        self._stream = stream if isinstance(stream, WSStream) else None

    async def send_texts(self, texts: Sequence[str]) -> None:
        """Send ``texts`` in order, each its own WebSocket message."""
        stream = self._stream
        if stream is None or stream.closed or stream.state is not ASGIWebsocketState.CONNECTED:
            for text in texts:
                await self._websocket.send_text(text)
            return
        try:
            frames = b"".join([stream.connection.send(TextMessage(data=text)) for text in texts])
        except LocalProtocolError:
            return  # the connection is closing: hypercorn drops what is sent then, too
        await stream.send(Data(stream_id=stream.stream_id, data=frames))
