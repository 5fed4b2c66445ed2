"""A small test client for the WebSocket feed, on trio-websocket."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from trio_websocket import WebSocketConnection

Message = dict[str, Any]


class FeedClient:
    """Sends commands and reads the feed, one decoded message at a time."""

    def __init__(self, connection: WebSocketConnection) -> None:
        self.connection = connection

    async def send(self, message: Message | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        await self.connection.send_message(text)

    async def receive(self) -> Message:
        return json.loads(await self.connection.get_message())

    async def collect(self, order_id: str, stop: Callable[[Message], bool]) -> list[Message]:
        """Every message about ``order_id`` up to and including the first one ``stop`` accepts."""
        messages = []
        while True:
            message = await self.receive()
            if message.get("CompositeId") != order_id:
                continue
            messages.append(message)
            if stop(message):
                return messages


def is_final(message: Message) -> bool:
    """True for a StatusChange to a status the order does not leave."""
    return message["Type"] == "StatusChange" and message["Data"]["Status"] != "Running"


def new_order(
    order_id: str,
    amount: str,
    duration: str,
    interval: str,
    side: str = "buy",
    exchange: str = "DERIBIT",
    *,
    algorithm: str = "TWAP",
    exchanges: tuple[str, ...] = (),
    symbol_type: str = "perpetual",
) -> Message:
    """A New message in the seed's old-docs form, with a client-chosen id (on ``exchange``, or
    on ``exchanges`` when given)."""
    return {
        "type": "New",
        "id": order_id,
        "exchanges": list(exchanges or (exchange,)),
        "algorithm": algorithm,
        "parameters": {
            "symbol": "BTC-USD",
            "symbol_type": symbol_type,
            "side": side,
            "amount": amount,
            "duration": duration,
            "interval": interval,
        },
    }
