"""The feed writes what is queued for a subscriber at once, not a message per scheduler turn, and
every client reads the same messages however its connection frames them.

Under load every turn of Trio's scheduler runs every task that woke, so a writer that sent one
message per turn fell behind any burst. The clients here are wsproto over a plain socket,
reading without a checkpoint per message, so the turns counted are the server's.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request, TextMessage
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

    async def texts(self, count: int) -> list[str]:
        """The next ``count`` text messages, each put together from the pieces wsproto reads
        it in (hypercorn's keep-alive pings skipped)."""
        received: list[str] = []
        pieces: list[str] = []
        while len(received) < count:
            self.connection.receive_data(await self.stream.receive_some())
            for event in self.connection.events():
                if isinstance(event, Ping):
                    continue
                assert isinstance(event, TextMessage), event
                pieces.append(event.data)
                if event.message_finished:
                    received.append("".join(pieces))
                    pieces.clear()
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
