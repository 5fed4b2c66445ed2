"""The feed writes what is queued for a subscriber at once, not a message per scheduler turn.

Under load every turn of Trio's scheduler runs every task that woke, so a writer that sent one
message per turn fell behind any burst. The client here is wsproto over a plain socket, reading
without a checkpoint per message, so the turns counted are the server's.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request, TextMessage

from tests.api.conftest import KEYS, serving

BURST = 500


async def test_a_burst_queued_for_a_subscriber_goes_out_in_a_few_turns(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        feed = api.engine.services.feed
        address = urlsplit(api.ws_url)
        client = WSConnection(ConnectionType.CLIENT)
        stream = await trio.open_tcp_stream(address.hostname, address.port)
        target = f"{address.path}?api_key={KEYS['viewer']}"
        await stream.send_all(client.send(Request(host=address.netloc, target=target)))
        events = []
        while not any(isinstance(event, AcceptConnection) for event in events):
            client.receive_data(await stream.receive_some())
            events += client.events()
        while feed.subscribers == 0:
            await trio.sleep(0)

        for number in range(BURST):
            feed.publish(json.dumps({"Type": "Test", "n": number}))
        turns = 0
        received: list[int] = []

        async def count_turns() -> None:
            nonlocal turns
            while True:
                turns += 1
                await trio.sleep(0)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(count_turns)
            with trio.fail_after(20):
                while len(received) < BURST:
                    client.receive_data(await stream.receive_some())
                    for event in client.events():
                        if isinstance(event, Ping):  # hypercorn's keep-alive
                            continue
                        assert isinstance(event, TextMessage) and event.message_finished, event
                        received.append(json.loads(event.data)["n"])
            nursery.cancel_scope.cancel()
        await stream.aclose()

    assert received == list(range(BURST))
    assert turns < BURST / 10, f"{BURST} queued messages took {turns} turns of the scheduler"
