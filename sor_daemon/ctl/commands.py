"""What each sorctl command does against the daemon; each returns sorctl's exit status.

Following an order is race-free: the feed is connected before the order is submitted (over the
feed itself, with an id chosen here) or before its current state is read from REST, so no event
about it can fall between the two.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import trio
from rich.console import Console

from sor_daemon.ctl.client import DaemonError, Feed, RestClient, open_feed, open_rest
from sor_daemon.ctl.progress import Display, JsonLines, ProgressBoard
from sor_daemon.ctl.settings import Server
from sor_daemon.ctl.tables import account_table, requests_table
from sor_daemon.ctl.tracking import EXIT_OK, OrderState

ACK_TIMEOUT_SECONDS = 15
WATCH_RECENT = 200
"""``watch`` shows the running orders among the newest this many from the start (every other
as soon as the feed mentions it): the daemon's history can be long."""

stderr = Console(stderr=True, highlight=False)


def new_message(order_id: str, args: argparse.Namespace) -> dict[str, Any]:
    """The old docs' New form, with the id chosen here so its events can be told apart."""
    parameters = {
        "side": args.side,
        "symbol": args.symbol,
        "symbol_type": args.type,
        "amount": f"{args.amount:f}",
        "duration": str(args.duration),
        "interval": str(args.interval),
    }
    if getattr(args, "safety_threshold", None) is not None:
        parameters["safety_threshold"] = f"{args.safety_threshold:f}"
    if args.limit_price is not None:
        parameters["limit_price"] = f"{args.limit_price:f}"
    return {
        "type": "New",
        "id": order_id,
        "algorithm": args.algorithm,
        "exchanges": args.exchange,
        "parameters": parameters,
    }


async def add(server: Server, args: argparse.Namespace) -> int:
    """Submit a smart order over the feed; with ``--wait``, follow it until it ends."""
    order_id = str(uuid.uuid4())
    order = OrderState.submitted(order_id, args.amount, args.duration)
    async with open_feed(server) as feed:
        await feed.send(new_message(order_id, args))
        if args.wait:
            return await _follow_one(feed, order, _display(args.json))
        with trio.move_on_after(ACK_TIMEOUT_SECONDS) as waiting:
            raw, _ = await _next_about(feed, order_id)
        if waiting.cancelled_caught:
            raise DaemonError(
                f"the daemon did not confirm {order_id} within {ACK_TIMEOUT_SECONDS} s"
            )
    print(raw if args.json else order_id, flush=True)
    return EXIT_OK


async def watch(server: Server, args: argparse.Namespace) -> int:
    """Follow the feed: one order until it ends, or every order until interrupted."""
    async with open_feed(server) as feed, open_rest(server) as rest:
        if args.id is None:
            recent = await rest.call("GET", f"/requests?newest={WATCH_RECENT}")
            return await _follow_all(feed, rest, recent, _display(args.json))
        order = OrderState.from_view(await rest.call("GET", f"/requests/{args.id}"))
        if order.final:
            stderr.print(order.summary())
            return order.exit_code
        return await _follow_one(feed, order, _display(args.json))


async def cancel(server: Server, args: argparse.Namespace) -> int:
    """Cancel a running smart order."""
    async with open_rest(server) as rest:
        view = await rest.call("POST", f"/cancel/{args.id}")
    stderr.print(OrderState.from_view(view).summary())
    return EXIT_OK


async def update(server: Server, args: argparse.Namespace) -> int:
    """Change a running order's amount, duration, interval or limit price."""
    changes = {
        "amount": args.amount,
        "duration": args.duration,
        "interval": args.interval,
        "limit_price": args.limit_price,
    }
    parameters = {key: str(value) for key, value in changes.items() if value is not None}
    async with open_rest(server) as rest:
        view = await rest.call("PUT", "/update", {"Id": args.id, "Parameters": parameters})
    stderr.print(
        f"{OrderState.from_view(view).summary()}; now {view['duration']}/{view['interval']}"
    )
    return EXIT_OK


async def list_requests(server: Server, args: argparse.Namespace) -> int:
    """Every smart order, or the newest few, as a table."""
    query = "" if args.newest is None else f"?newest={args.newest}"
    async with open_rest(server) as rest:
        views = await rest.call("GET", f"/requests{query}")
    Console().print(requests_table(views))
    return EXIT_OK


async def show_account(server: Server, args: argparse.Namespace) -> int:
    """The EMS account's balances, open orders or positions, as a table."""
    async with open_rest(server) as rest:
        grouped = await rest.call("GET", f"/{args.command}")
    Console().print(account_table(args.command, grouped))
    return EXIT_OK


def _display(json_lines: bool) -> Display:
    return JsonLines() if json_lines else ProgressBoard()


async def _next_about(feed: Feed, order_id: str) -> tuple[str, dict[str, Any]]:
    """The next message about ``order_id``; a Reject of it raises DaemonError.

    A Reject without an id is ours too: only this connection's commands are answered on it,
    and this connection sends one command.
    """
    while True:
        raw, message = await feed.receive()
        composite_id = message.get("CompositeId")
        if message.get("Type") == "Reject" and composite_id in (order_id, None):
            raise DaemonError(message["Data"]["RejectMessage"])
        if composite_id == order_id:
            return raw, message


async def _follow_one(feed: Feed, order: OrderState, display: Display) -> int:
    """Show ``order`` until it ends; its exit code. The first line names the order, so an
    operator (or a script reading stderr) knows which id to cancel and that the feed is live."""
    stderr.print(f"following {order.id}")
    with display:
        display.show(None, order)
        while not order.final:
            raw, message = await _next_about(feed, order.id)
            order.apply(message)
            display.show(raw, order)
    stderr.print(order.summary())
    return order.exit_code


async def _follow_all(
    feed: Feed, rest: RestClient, recent: list[dict[str, Any]], display: Display
) -> int:
    """Show every order the feed mentions, and the running ones of the ``recent`` views from
    the start, until interrupted."""
    orders = {
        view["id"]: OrderState.from_view(view) for view in recent if view["status"] == "Running"
    }
    with display:
        for order in orders.values():
            display.show(None, order)
        while True:
            raw, message = await feed.receive()
            order_id = message.get("CompositeId")
            order = orders.get(order_id) if order_id else None
            if order_id and order is None:
                order = orders[order_id] = await _lookup(rest, order_id)
            if order is not None:
                order.apply(message)
            display.show(raw, order)


async def _lookup(rest: RestClient, order_id: str) -> OrderState:
    """An order first seen on the feed, as REST knows it (bare if REST does not yet)."""
    try:
        return OrderState.from_view(await rest.call("GET", f"/requests/{order_id}"))
    except DaemonError:
        return OrderState(id=order_id)
