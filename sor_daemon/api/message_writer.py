"""Writing a feed subscription's messages to its WebSocket, under hypercorn, as soon as they are
queued.

ASGI sends one message per call, and hypercorn writes each to the socket by itself behind a lock
(``TCPServer.send_lock``); taking the lock and writing are each a checkpoint, a turn of Trio's
scheduler. A writer task that woke for what was queued, took the lock, then wrote, put a fill two
turns or more behind its announcement, and under load every turn runs every task that woke.

So ``MessageWriter`` writes in the turn a message is queued, at its end (``turn_end``), with
everything the turn queued, or sooner, with what the journal's step announced, as that step
ends (an urgent call, ``urgent_calls_now``): the frames go straight to the connection's socket
when nobody holds hypercorn's lock, without waiting (the socket is non-blocking). What the
socket does not take then, and what is queued while the lock is held, is written by the
writer's task (``run``) through hypercorn, in order. Until the part of a frame the socket did
not take is written, hypercorn's own writes on the connection (a pong, a close) wait for it:
the writer stands in for the WebSocket stream's ``send``, so no bytes can come between.

Under hypercorn, the ``send`` an ASGI app is handed for a WebSocket is the method of hypercorn's
stream for that connection. ``keep_server_send`` puts it in the scope; the writer frames each
message with the stream's own wsproto connection (so compression, if the client asked for it,
still applies). A client that asked for no extension gets plain frames, the same bytes for every
such client: made once per message, by the first writer that needs them, and kept on the shared
``FeedMessage``; what a turn queued for many such clients is joined into one write once too
(``Subscription.take_framed``). Where that stream is not there (another server), or the
connection is not plain HTTP/1.1 over TCP (TLS, HTTP/2), messages go through ASGI or
hypercorn's stream, from the task.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import trio
from hypercorn.protocol.events import Data, Event
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
from hypercorn.trio.tcp_server import TCPServer
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from wsproto.connection import ConnectionState
from wsproto.events import TextMessage
from wsproto.frame_protocol import FrameProtocol

from sor_daemon.engine.feed import FeedMessage, Subscription
from sor_daemon.turn_end import at_turn_end

SERVER_SEND = "sor_daemon.server_send"
"""The scope key under which ``keep_server_send`` keeps the server's own ``send``."""
WRITE_CHARACTERS = 1 << 20
"""Queued messages are joined into one write until it holds this many characters (JSON text:
about as many bytes). A message count would not do: a long order's StatusChange can be a
hundred kilobytes, a TradeFill is half of one."""


def keep_server_send(app: ASGIApp) -> ASGIApp:
    """``app``, with each WebSocket scope carrying the ``send`` the server handed over (before
    any middleware wraps it)."""

    async def with_server_send(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await app(scope, receive, send)

    return with_server_send


class MessageWriter:
    """Sends one subscription's messages on one WebSocket, in order, as soon as it can."""

    def __init__(self, websocket: WebSocket, subscription: Subscription) -> None:
        self._websocket = websocket
        self._subscription = subscription
        stream = getattr(websocket.scope.get(SERVER_SEND), "__self__", None)
        self._stream = stream if isinstance(stream, WSStream) else None
        self._plain = self._stream is not None and self._stream.handshake.extensions is None
        """The client offered no extension, so none is in use on the connection."""
        self._server = None if self._stream is None else _plain_tcp_server(self._stream)
        """hypercorn's connection, when the writer may write to its socket itself."""
        self._server_send = None if self._stream is None else self._stream.send
        """hypercorn's own ``send`` for the stream. The writer stands in for it from here on,
        for as long as the connection lasts, so that hypercorn's writes wait for the end of a
        write the socket did not take."""
        self._wake = trio.Event()
        self._write_due = False
        self._sending = False
        """The task is writing: what is queued meanwhile is its to write."""
        self._unsent: bytes | None = None
        """The end of a write the socket did not take at once: nothing may be written before
        it."""
        self._unsent_written = trio.Event()
        if self._server is not None and self._stream is not None:
            self._stream.send = self._send_after_unsent
        subscription.listen(self._queued)

    async def run(self) -> None:
        """Write what could not be written in the turn it was queued, until the subscription
        has ended and everything queued is written (or the connection closed)."""
        try:
            while True:
                if self._unsent is None and not self._subscription.queued:
                    if self._subscription.closed:
                        return
                    await self._wake.wait()
                    self._wake = trio.Event()
                    continue
                self._sending = True
                try:
                    await self._write_in_task()
                finally:
                    self._sending = False
        finally:
            self._written_unsent()

    def _queued(self) -> None:
        """The subscription's listener: a message was queued, or it was closed."""
        if self._server is None or self._subscription.closed:
            self._wake.set()
        elif not self._write_due:
            self._write_due = True
            at_turn_end(self._write_now, urgent=True)

    def _write_now(self) -> None:
        """At the end of the turn, or of the step that announced what is queued: write it to
        the socket if nothing else is being written; leave to the task what cannot be written
        now."""
        self._write_due = False
        if self._sending or self._unsent is not None or not self._subscription.queued:
            return
        if not self._can_write_now():
            self._wake.set()
            return
        if self._plain:
            data = self._subscription.take_framed(WRITE_CHARACTERS, plain_frames)
        else:
            data = self._frames(self._subscription.take(WRITE_CHARACTERS))
        written = self._write_to_socket(data)
        if written < len(data):
            self._unsent = data[written:]
            self._unsent_written = trio.Event()
        if self._unsent is not None or self._subscription.queued:
            self._wake.set()

    def _can_write_now(self) -> bool:
        """True when bytes written to the socket now go out whole messages, in order: the
        connection is open and nobody is writing on it through hypercorn."""
        server, stream = self._server, self._stream
        return (
            server is not None
            and stream is not None
            and not server.send_lock.locked()
            and self._open(stream)
            and server.stream.socket.fileno() != -1
        )

    def _write_to_socket(self, data: bytes) -> int:
        """Write to the connection's non-blocking socket; how much it took. An error is left
        to hypercorn's write of the rest to find and act on."""
        assert self._server is not None
        try:
            return os.write(self._server.stream.socket.fileno(), data)
        except OSError:
            return 0

    async def _write_in_task(self) -> None:
        """Write the end of a write the socket did not take, then what is queued, through
        hypercorn (its lock, and its handling of a connection that broke)."""
        if self._unsent is not None:
            await self._send_data(self._unsent)
            self._written_unsent()
        while messages := self._subscription.take(WRITE_CHARACTERS):
            await self._send(messages)

    def _written_unsent(self) -> None:
        """The end of a write is written (or never will be): hypercorn may write again."""
        self._unsent = None
        self._unsent_written.set()

    async def _send_after_unsent(self, event: Event) -> None:
        """hypercorn's ``send`` for the stream, once the end of a write is written."""
        while self._unsent is not None:
            await self._unsent_written.wait()
        assert self._server_send is not None
        await self._server_send(event)

    async def _send(self, messages: Sequence[FeedMessage]) -> None:
        """Send ``messages`` in order, each its own WebSocket text message."""
        stream = self._stream
        if stream is None or stream.closed or stream.state is not ASGIWebsocketState.CONNECTED:
            for message in messages:
                await self._websocket.send_text(message.text)
            return
        if stream.connection.state is not ConnectionState.OPEN:
            return  # the connection is closing: hypercorn drops what is sent then, too
        await self._send_data(self._frames(messages))

    async def _send_data(self, data: bytes) -> None:
        """Write bytes on the stream through hypercorn."""
        assert self._stream is not None and self._server_send is not None
        await self._server_send(Data(stream_id=self._stream.stream_id, data=data))

    def _frames(self, messages: Sequence[FeedMessage]) -> bytes:
        """``messages`` as WebSocket frames for this connection."""
        assert self._stream is not None
        if self._plain:
            return plain_frames(messages)
        connection = self._stream.connection
        return b"".join([connection.send(TextMessage(data=m.text)) for m in messages])

    @staticmethod
    def _open(stream: WSStream) -> bool:
        """True while the WebSocket is connected and open for messages."""
        return (
            not stream.closed
            and stream.state is ASGIWebsocketState.CONNECTED
            and stream.connection.state is ConnectionState.OPEN
        )


def _plain_tcp_server(stream: WSStream) -> TCPServer | None:
    """hypercorn's connection under ``stream`` when it is HTTP/1.1 over plain TCP (so that its
    socket carries the stream's frames as they are), else None."""
    protocol = getattr(stream.send, "__self__", None)
    if not isinstance(protocol, H11Protocol):
        return None
    server = getattr(protocol.send, "__self__", None)
    if isinstance(server, TCPServer) and isinstance(server.stream, trio.SocketStream):
        return server
    return None


_PLAIN_FRAMES = FrameProtocol(client=False, extensions=[])
"""Frames as a server sends them with no extension. Whole messages leave it in no state."""


def plain_frames(messages: Sequence[FeedMessage]) -> bytes:
    """``messages`` as plain text frames, one after another (the same bytes for every client
    that asked for no extension)."""
    return b"".join([plain_frame(message) for message in messages])


def plain_frame(message: FeedMessage) -> bytes:
    """``message`` as one unmasked, uncompressed text frame; made once, kept on the message."""
    if message.wire is None:
        message.wire = bytes(_PLAIN_FRAMES.send_data(message.text))
    return message.wire
