"""The feed writes what is queued for a subscriber at once, not a message per scheduler turn, and
every client reads the same messages however its connection frames them.

Under load every turn of Trio's scheduler runs every task that woke, so a writer that sent one
message per turn fell behind any burst, and one that woke a task to write put each message turns
behind its publication. The clients here are wsproto over a plain socket, reading without a
checkpoint per message, so the turns counted are the server's.
"""

from __future__ import annotations

import json
import os
import select
from pathlib import Path
from socket import SO_RCVBUF, SOL_SOCKET
from urllib.parse import urlsplit

import attrs
import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Pong, Request, TextMessage
from wsproto.extensions import Extension, PerMessageDeflate

from tests.api.conftest import KEYS, ApiServer, serving

BURST = 500


@attrs.define
class FeedClient:
    """A WebSocket client of the feed: wsproto over a TCP stream."""

    connection: WSConnection
    stream: trio.SocketStream
    extensions: list[Extension]
    """The extensions the server accepted."""

    pieces: list[str] = attrs.Factory(list)
    pongs: int = 0

    async def texts(self, count: int) -> list[str]:
        """The next ``count`` text messages, each put together from the pieces wsproto reads
        it in (hypercorn's keep-alive pings skipped, pongs counted)."""
        received: list[str] = []
        while len(received) < count:
            received += self.read(await self.stream.receive_some())
        return received

    def read(self, data: bytes) -> list[str]:
        """The text messages ``data`` completes (wsproto raises on a malformed stream)."""
        self.connection.receive_data(data)
        received = []
        for event in self.connection.events():
            if isinstance(event, Ping):
                continue
            if isinstance(event, Pong):
                self.pongs += 1
                continue
            assert isinstance(event, TextMessage), event
            self.pieces.append(event.data)
            if event.message_finished:
                received.append("".join(self.pieces))
                self.pieces.clear()
        return received


async def connect(api: ApiServer, extensions: list[Extension] | None = None) -> FeedClient:
    """A viewer's connection to the feed, offering ``extensions``, once the feed counts it."""
    feed = api.engine.services.feed
    subscribers = feed.subscribers
    address = urlsplit(api.ws_url)
    connection = WSConnection(ConnectionType.CLIENT)
    stream = await trio.open_tcp_stream(address.hostname, address.port)
    target = f"{address.path}?api_key={KEYS['viewer']}"
    request = Request(host=address.netloc, target=target, extensions=extensions or [])
    await stream.send_all(connection.send(request))
    while True:
        connection.receive_data(await stream.receive_some())
        accepted = [e for e in connection.events() if isinstance(e, AcceptConnection)]
        if accepted:
            break
    while feed.subscribers == subscribers:
        await trio.sleep(0)
    return FeedClient(connection, stream, list(accepted[0].extensions))


async def test_a_burst_queued_for_a_subscriber_goes_out_in_a_few_turns(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        client = await connect(api)
        for number in range(BURST):
            api.engine.services.feed.publish(json.dumps({"Type": "Test", "n": number}))
        turns = 0

        async def count_turns() -> None:
            nonlocal turns
            while True:
                turns += 1
                await trio.sleep(0)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(count_turns)
            with trio.fail_after(20):
                received = [json.loads(text)["n"] for text in await client.texts(BURST)]
            nursery.cancel_scope.cancel()
        await client.stream.aclose()

    assert received == list(range(BURST))
    assert turns < BURST / 10, f"{BURST} queued messages took {turns} turns of the scheduler"


async def test_compressed_and_plain_clients_read_the_same_messages(tmp_path: Path) -> None:
    """Plain clients share each message's frame; a client that asked for compression gets its
    own, compressed. All of them read every message, in order, whole."""
    messages = [json.dumps({"Type": "Test", "n": n, "pad": "x" * (n % 300)}) for n in range(BURST)]
    async with serving(tmp_path) as api:
        compressed = await connect(api, [PerMessageDeflate()])
        plain = [await connect(api), await connect(api)]
        for text in messages:
            api.engine.services.feed.publish(text)
        with trio.fail_after(20):
            received = [await client.texts(BURST) for client in [compressed, *plain]]
        for client in [compressed, *plain]:
            await client.stream.aclose()

    assert [type(extension) for extension in compressed.extensions] == [PerMessageDeflate]
    assert plain[0].extensions == plain[1].extensions == []
    assert received == [messages] * 3


async def test_a_message_is_on_the_socket_by_the_end_of_the_turn_that_published_it(
    tmp_path: Path,
) -> None:
    """The frame is written at the end of the publishing turn: once the test task has let one
    turn end, it blocks the whole Trio thread (no task of the server can run any more) and the
    message is already there to read."""
    async with serving(tmp_path) as api:
        client = await connect(api)
        await trio.testing.wait_all_tasks_blocked()  # the subscriber's writer waits for work
        for number in range(3):
            api.engine.services.feed.publish(json.dumps({"Type": "Test", "n": number}))
            await trio.sleep(0)
            assert [json.loads(text)["n"] for text in read_blocking(client)] == [number]
        await client.stream.aclose()


def read_blocking(client: FeedClient) -> list[str]:
    """The next text messages the client reads, blocking the Trio thread while it waits: no
    task of the server runs meanwhile."""
    socket = client.stream.socket.fileno()
    received: list[str] = []
    while not received:
        readable, _, _ = select.select([socket], [], [], 10)
        assert readable, "the message was not written in the turn that published it"
        received = client.read(os.read(socket, 1 << 16))
    return received


async def test_what_the_socket_takes_in_part_is_written_whole_before_hypercorn_writes(
    tmp_path: Path,
) -> None:
    """A message larger than the socket's buffers goes in part at the end of the turn that
    published it, and the writer's task writes the rest. The client pings in that same turn:
    hypercorn answers with a pong on the same connection, and the pong must not come between
    the two parts of the frame. Whether hypercorn's reader or the writer's task runs first
    after that turn is Trio's coin toss, so the round is played several times. Each round, the
    client then reads everything: the message arrives whole, and the ping is answered."""
    rounds, size = 8, 8 << 20  # larger than loopback's largest send buffer and our receive one
    async with serving(tmp_path) as api:
        client = await connect(api)
        async with client.stream:  # closed on a failure too, or the server waits to write
            client.stream.setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 16)
            await trio.testing.wait_all_tasks_blocked()  # the subscriber's writer waits
            for number in range(rounds):
                text = json.dumps({"Type": "Test", "n": number, "pad": "x" * size})
                api.engine.services.feed.publish(text)
                await client.stream.send_all(client.connection.send(Ping(b"%d" % number)))
                with trio.fail_after(60):
                    assert await client.texts(1) == [text]
                    while client.pongs <= number:
                        client.read(await client.stream.receive_some())
