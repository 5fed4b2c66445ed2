"""A client slow to read its reports must not stop the simulator reading its orders.

The client here is a plain socket speaking FIX text, so that it can do what quickfix never
does: keep writing orders while it reads nothing, with a small receive buffer.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from decimal import Decimal

import trio

from sor_daemon.sim.fixcodec import format_timestamp
from sor_daemon.sim.service import SimulatorHandle
from tests.support.raw_fix import read_messages, wire_message

from .test_fix_session import BTC_PERP, current_quote, far_below

ORDERS = 1000
WAIT = 30


def resting_order(order_id: str, price: Decimal) -> list[tuple[int, str]]:
    """A GTC buy far below the market: it rests, and is answered with one report."""
    return [
        (11, order_id),
        (583, order_id),
        (100, "DERIBIT"),
        (48, BTC_PERP),
        (55, BTC_PERP),
        (22, "101"),
        (60, format_timestamp(datetime.now(UTC))),
        (40, "2"),
        (54, "1"),
        (44, str(price)),
        (38, "1"),
        (59, "1"),
    ]


async def test_orders_are_read_while_their_reports_wait_for_the_client(
    simulator: SimulatorHandle,
) -> None:
    price = far_below(await current_quote(simulator, BTC_PERP))
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect((simulator.fix_host, simulator.fix_port))
    async with trio.SocketStream(sock) as stream:
        us, them = simulator.target_comp_id, simulator.sender_comp_id
        logon = [(98, "0"), (108, "30"), (141, "Y")]
        await stream.send_all(wire_message(us, them, 1, "A", logon))
        for number in range(ORDERS):
            order = resting_order(f"S-{number}", price)
            await stream.send_all(wire_message(us, them, number + 2, "D", order))

        with trio.fail_after(WAIT):
            while len(simulator.exchange.open_orders()) < ORDERS:
                await trio.sleep(0.05)

            logon_reply, *reports = await read_messages(stream, 1 + ORDERS)

    assert logon_reply[35] == "A"
    assert [report[11] for report in reports] == [f"S-{number}" for number in range(ORDERS)]
    assert {(report[35], report[150], report[39]) for report in reports} == {("8", "0", "0")}
    assert [int(report[34]) for report in reports] == list(range(2, ORDERS + 2))
