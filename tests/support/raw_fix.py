"""FIX 4.4 as bytes on a plain socket, for peers quickfix would never be: one that writes and
never reads, one that answers a logon and then goes silent, and how much such a peer must be
sent before the kernel's buffers are full."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import trio

from sor_daemon.fix.dialect import framed_message
from sor_daemon.sim.fixcodec import format_timestamp
from tests.sim.fix_client import Fields, parse


def wire_message(
    sender: str, target: str, seq_num: int, msg_type: str, body: Sequence[tuple[int, str]]
) -> bytes:
    """One message from ``sender`` to ``target`` as it goes on the wire (quickfix writes the
    BodyLength and CheckSum)."""
    header = [(35, msg_type), (49, sender), (56, target)]
    header += [(34, str(seq_num)), (52, format_timestamp(datetime.now(UTC)))]
    fields = "".join(f"{tag}={value}\x01" for tag, value in [*header, *body])
    return framed_message(fields).toString().encode()


async def logged_on(host: str, port: int, sender: str, target: str) -> trio.SocketStream:
    """A connection to ``host:port`` with a 4 KiB receive buffer, its Logon (MsgSeqNum 1, with
    ResetSeqNumFlag) sent: a peer that can fill the other side's buffers by reading nothing."""
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect((host, port))
    stream = trio.SocketStream(sock)
    logon = [(98, "0"), (108, "30"), (141, "Y")]
    await stream.send_all(wire_message(sender, target, 1, "A", logon))
    return stream


async def send_orders(
    stream: trio.SocketStream, sender: str, target: str, orders: Iterable[Sequence[tuple[int, str]]]
) -> None:
    """Send each body as a NewOrderSingle, numbered on from the Logon."""
    for seq_num, order in enumerate(orders, start=2):
        await stream.send_all(wire_message(sender, target, seq_num, "D", order))


async def read_messages(stream: trio.SocketStream, count: int) -> list[Fields]:
    """The next ``count`` messages on ``stream`` (or a few more, if they came with them)."""
    reader = FixReader(stream)
    messages: list[Fields] = []
    while len(messages) < count:
        messages += await reader.next_messages()
    return messages


class FixReader:
    """Whole FIX messages from a stream, however its bytes arrive: a message split between two
    reads is kept for the next."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self._stream = stream
        self._buffered = b""

    async def next_messages(self) -> list[Fields]:
        """The messages complete in what has arrived, waiting for at least one."""
        messages: list[Fields] = []
        while not messages:
            received = await self._stream.receive_some(65536)
            assert received, "the peer closed the connection"
            self._buffered += received
            while (trailer := self._buffered.find(b"\x0110=")) >= 0:
                end = self._buffered.find(b"\x01", trailer + 1)
                if end < 0:
                    break
                messages.append(parse(self._buffered[: end + 1].decode()))
                self._buffered = self._buffered[end + 1 :]
        return messages


def most_the_kernel_holds() -> int:
    """The largest send buffer TCP grows a socket to, in bytes."""
    return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
