"""The engine on a mock clock with a paper venue and a static market, for engine tests."""

from __future__ import annotations

import json

import attrs
import trio

from sor_daemon.domain.events import StatusChanged
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.ports import GatewayEvent, SessionDown, SessionUp
from sor_daemon.engine.relay import Relay
from sor_daemon.protocol.codec import parse_ws_message
from sor_daemon.protocol.messages import NewSmartOrder
from sor_daemon.store.journal import Journal
from tests.support.paper import PaperVenue, StaticMarket


@attrs.define
class Rig:
    engine: Engine
    venue: PaperVenue
    journal: Journal
    feed: Feed
    events: Relay[GatewayEvent]
    market: StaticMarket


def new(
    amount: str,
    duration: str,
    interval: str,
    order_id: str = "day-1",
    algorithm: str = "TWAP",
    exchanges: tuple[str, ...] = ("DERIBIT",),
    limit_price: str | None = None,
) -> NewSmartOrder:
    limit = {} if limit_price is None else {"limit_price": limit_price}
    message = parse_ws_message(
        json.dumps(
            {
                "type": "New",
                "id": order_id,
                "algorithm": algorithm,
                "exchanges": list(exchanges),
                "parameters": {
                    "side": "buy",
                    "symbol": "BTC-USD",
                    "symbol_type": "perpetual",
                    "amount": amount,
                    "duration": duration,
                    "interval": interval,
                    **limit,
                },
            }
        )
    )
    assert isinstance(message, NewSmartOrder)
    return message


async def lose_session(rig: Rig, reason: str = "connection lost") -> None:
    """The paper venue's session goes down, and the runners have heard it."""
    rig.venue.is_up = False
    rig.events.publish(SessionDown(reason))
    await trio.sleep(0.5)


def restore_session(rig: Rig) -> None:
    """The paper venue's session is back."""
    rig.venue.is_up = True
    rig.events.publish(SessionUp())


async def wait_until_over(order: SmartOrder) -> None:
    while not order.status.terminal:
        await trio.sleep(1)


def infos(rig: Rig, order_id: str) -> list[str | None]:
    """Every statusInfo the order's journal recorded, in order."""
    return [
        event.info for event in rig.journal.events_of(order_id) if isinstance(event, StatusChanged)
    ]


def replayed(journal: Journal, order_id: str) -> SmartOrder:
    """The order as its journaled events rebuild it."""
    return SmartOrder.replay(journal.events_of(order_id))
