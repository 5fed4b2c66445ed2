"""The fan-out baseline's server: a raw picows broadcast, the least work a WebSocket fan-out does.

``python -m bench.broadcast SUBSCRIBERS RATE SIZE COUNT`` listens on a free loopback port (it
prints ``port N``), waits for SUBSCRIBERS connections, then publishes COUNT text messages of SIZE
bytes at RATE a second to every one of them, and exits once every connection is closed.

Each message is framed in C and written to each subscriber's socket as it is published, with
nothing between: no application, no event loop turn per subscriber. A subscriber whose unsent
bytes grow past ``QUEUE_SIZE`` messages is cut off as the daemon's feed cuts off a full queue
(closed with 1008). Each message carries the moment it was published (``SentAt``), so the
subscribers of ``bench.subscriber`` measure the delivery latency.

``bench.feed``'s trio-websocket server frames every message once per subscriber in Python
(wsproto), and at 2,000 messages a second to 100 subscribers it carried a sixth of the stream
on this machine before cutting everyone off, where the daemon, which frames a message once for
all of them, carried all of it. It would measure itself, not the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

from bench.feed import QUEUE_SIZE, padded

STOP_LIMIT_SECONDS = 120


class Subscriber(WSListener):
    """One connection: known to the server once connected, forgotten once gone."""

    def __init__(self, server: Broadcast) -> None:
        self._server = server
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        """The handshake is done: the subscriber gets every message from now on."""
        self.transport = transport
        self._server.joined(self)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        """Subscribers send nothing but their close (the answer to ours, or their own)."""
        if frame.msg_type is WSMsgType.CLOSE:
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        """The connection is gone."""
        self._server.left()


class Broadcast:
    """Every connected subscriber, and when all that were expected have come and gone."""

    def __init__(self, expected: int) -> None:
        self._expected = expected
        self.connected: list[Subscriber] = []
        self._gone = 0
        self.everyone = asyncio.Event()
        self.drained = asyncio.Event()

    def joined(self, subscriber: Subscriber) -> None:
        """``subscriber`` connected; once all expected have, publishing may start."""
        self.connected.append(subscriber)
        if len(self.connected) == self._expected:
            self.everyone.set()

    def left(self) -> None:
        """A subscriber's connection ended; once all have, the server may stop."""
        self._gone += 1
        if self._gone == self._expected:
            self.drained.set()

    def publish(self, payload: bytes, cut_off: set[Subscriber]) -> None:
        """Write ``payload`` to every subscriber not cut off; cut off any that fell too far
        behind."""
        limit = QUEUE_SIZE * len(payload)
        for subscriber in self.connected:
            if subscriber in cut_off:
                continue
            transport = subscriber.transport
            assert transport is not None
            if transport.underlying_transport.get_write_buffer_size() > limit:
                cut_off.add(subscriber)
                transport.send_close(WSCloseCode.POLICY_VIOLATION, b"too slow")
                continue
            transport.send(WSMsgType.TEXT, payload)


async def broadcast(subscriber_count: int, rate: float, size: int, count: int) -> None:
    """Serve until ``count`` messages were published and every subscriber has gone."""
    server = Broadcast(subscriber_count)
    listening = await ws_create_server(lambda _request: Subscriber(server), "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    await server.everyone.wait()
    loop = asyncio.get_running_loop()
    start, published = loop.time(), 0
    cut_off: set[Subscriber] = set()
    while published < count and len(cut_off) < subscriber_count:
        await asyncio.sleep(max(0.0, start + published / rate - loop.time()))
        due = min(count, max(published + 1, int((loop.time() - start) * rate) + 1))
        for number in range(published, due):
            server.publish(padded(number, time.time(), size).encode(), cut_off)
        published = due
    for subscriber in server.connected:
        if subscriber.transport is not None and subscriber not in cut_off:
            subscriber.transport.send_close(WSCloseCode.OK)
    async with asyncio.timeout(STOP_LIMIT_SECONDS):
        await server.drained.wait()
    listening.close()


def main(argv: list[str] | None = None) -> None:
    """``SUBSCRIBERS RATE SIZE COUNT``: see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast")
    parser.add_argument("subscribers", type=int)
    parser.add_argument("rate", type=float)
    parser.add_argument("size", type=int)
    parser.add_argument("count", type=int)
    arguments = parser.parse_args(argv)
    asyncio.run(broadcast(arguments.subscribers, arguments.rate, arguments.size, arguments.count))


if __name__ == "__main__":
    main()
