"""A client slow to read its reports must not stop the simulator reading its orders.

The client here is a plain socket speaking FIX text, so that it can do what quickfix never
does: keep writing orders while it reads nothing, with a small receive buffer.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from decimal import Decimal

import trio

from sor_daemon.fix.dialect import framed_message
from sor_daemon.sim.fixcodec import format_timestamp
from sor_daemon.sim.service import SimulatorHandle

from .fix_client import Fields, parse
from .test_fix_session import BTC_PERP, current_quote, far_below

ORDERS = 1000
WAIT = 30


def framed(
    handle: SimulatorHandle, seq_num: int, msg_type: str, body: list[tuple[int, str]]
) -> bytes:
    """One FIX 4.4 message from the client's side, as bytes on the wire (quickfix writes the
    BodyLength and CheckSum)."""
    header = [(35, msg_type), (49, handle.target_comp_id), (56, handle.sender_comp_id)]
    header += [(34, str(seq_num)), (52, format_timestamp(datetime.now(UTC)))]
    fields = "".join(f"{tag}={value}\x01" for tag, value in header + body)
    return framed_message(fields).toString().encode()


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


async def read_messages(stream: trio.SocketStream, count: int) -> list[Fields]:
    """The next ``count`` messages on ``stream``."""
    messages: list[Fields] = []
    buffered = b""
    while len(messages) < count:
        received = await stream.receive_some(65536)
        assert received, "the simulator closed the connection"
        buffered += received
        while (trailer := buffered.find(b"\x0110=")) >= 0:
            end = buffered.find(b"\x01", trailer + 1)
            if end < 0:
                break
            messages.append(parse(buffered[: end + 1].decode()))
            buffered = buffered[end + 1 :]
    return messages


async def test_orders_are_read_while_their_reports_wait_for_the_client(
    simulator: SimulatorHandle,
) -> None:
    price = far_below(await current_quote(simulator, BTC_PERP))
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect((simulator.fix_host, simulator.fix_port))
    async with trio.SocketStream(sock) as stream:
        logon = [(98, "0"), (108, "30"), (141, "Y")]
        await stream.send_all(framed(simulator, 1, "A", logon))
        for number in range(ORDERS):
            order = resting_order(f"S-{number}", price)
            await stream.send_all(framed(simulator, number + 2, "D", order))

        with trio.fail_after(WAIT):
            while len(simulator.exchange.open_orders()) < ORDERS:
                await trio.sleep(0.05)

            logon_reply, *reports = await read_messages(stream, 1 + ORDERS)

    assert logon_reply[35] == "A"
    assert [report[11] for report in reports] == [f"S-{number}" for number in range(ORDERS)]
    assert {(report[35], report[150], report[39]) for report in reports} == {("8", "0", "0")}
    assert [int(report[34]) for report in reports] == list(range(2, ORDERS + 2))
