"""The EMS gateway against a FIX peer written by hand, to do what a quickfix acceptor never
does: stop reading, or ask for a resend at a moment the test chooses.

- **A silent EMS.** The gateway sends from the Trio thread. That is sound only because
  quickfix's ``SocketInitiator`` queues what the socket cannot take yet and writes it from its
  own thread (a ``ThreadedSocketInitiator`` would block the caller in ``send`` instead). The
  peer answers the logon, then neither reads nor writes, with a small receive buffer. The
  gateway is handed more than the kernel can hold in both socket buffers, and every send must
  come back at once while the peer is still silent; then quickfix must notice that the peer no
  longer answers, and the gateway must report the session down.
- **A ResendRequest.** A child order must never be sent twice: asked to resend, the gateway
  answers a gap fill for its NewOrderSingles and resends the rest flagged PossDupFlag.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import trio

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.values import Side
from sor_daemon.engine.ports import GatewayEvent, SessionDown
from sor_daemon.fix.dialect import new_order_single_text
from sor_daemon.fix.ems import EmsGateway, EmsSettings
from tests.support.raw_fix import most_the_kernel_holds, read_messages, wire_message

SETTINGS = EmsSettings(heartbeat_seconds=3)
"""quickfix gives up on a silent peer after 2.4 heartbeats: long enough for the whole flood to
be handed over first, even on a slow machine."""
GIVE_UP_SECONDS = 60
"""How long the silent peer stays silent before it closes the connection by itself (which is
how a send blocked on it would end, and the test fail)."""
WAIT_SECONDS = 30


class SilentEms:
    """A FIX peer on loopback that answers one logon, then neither reads nor writes until it is
    released (or gives up after ``GIVE_UP_SECONDS``)."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self.port: int = self._server.getsockname()[1]
        self._released = threading.Event()
        self.gave_up = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._server.accept()
        with connection:
            received = b""
            while not (trailer := received.find(b"\x0110=")) >= 0 or not received.endswith(b"\x01"):
                received += connection.recv(4096)
            assert b"\x0135=A\x01" in received[:trailer]
            logon = [(98, "0"), (108, str(SETTINGS.heartbeat_seconds)), (141, "Y")]
            ems, us = SETTINGS.target_comp_id, SETTINGS.sender_comp_id
            connection.sendall(wire_message(ems, us, 1, "A", logon))
            self.gave_up = not self._released.wait(GIVE_UP_SECONDS)

    def release(self) -> None:
        """Close the connection and stop listening."""
        self._released.set()
        self._thread.join()
        self._server.close()


CHILD = ChildPlanned(
    "o-1",
    "o-1-1",
    0,
    "DERIBIT",
    "DERIBIT_PERP_BTC_USD",
    "BTC-PERPETUAL",
    Side.BUY,
    Decimal("1"),
    Decimal("10000"),
    datetime(2026, 11, 26, tzinfo=UTC),
)


async def test_a_silent_ems_gets_every_send_back_at_once_and_is_noticed(tmp_path: Path) -> None:
    ems = SilentEms()
    gateway = EmsGateway(attrs.evolve(SETTINGS, port=ems.port), tmp_path)
    events: list[GatewayEvent] = []
    down = trio.Event()

    def hear(event: GatewayEvent) -> None:
        events.append(event)
        if isinstance(event, SessionDown):
            down.set()

    gateway.news.listen(hear)
    size = len(new_order_single_text(CHILD, datetime.now(UTC)))
    flood = 2 * most_the_kernel_holds() // size
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(gateway.run)
            with trio.fail_after(WAIT_SECONDS):
                while not gateway.is_up:
                    await trio.sleep(0.01)
            taken = [
                gateway.send_new(attrs.evolve(CHILD, child_id=f"o-1-{number}"))
                for number in range(1, flood + 1)
            ]
            assert not ems.gave_up, "a send waited for the silent EMS"
            assert all(taken), f"{taken.count(False)} of {flood} sends refused"
            assert not down.is_set()
            with trio.fail_after(WAIT_SECONDS):
                await down.wait()
            assert not gateway.is_up
            assert not gateway.send_new(attrs.evolve(CHILD, child_id="o-1-after"))
            nursery.cancel_scope.cancel()
    finally:
        ems.release()
    assert not ems.gave_up


async def test_a_resend_request_gets_a_gap_fill_for_child_orders_and_the_rest_resent(
    tmp_path: Path,
) -> None:
    settings = attrs.evolve(SETTINGS, heartbeat_seconds=30, reset_on_logon=False)
    ems, us = settings.target_comp_id, settings.sender_comp_id
    [listener] = await trio.open_tcp_listeners(0, host="127.0.0.1")
    gateway = EmsGateway(attrs.evolve(settings, port=listener.socket.getsockname()[1]), tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(gateway.run)
        with trio.fail_after(WAIT_SECONDS):
            stream = await listener.accept()
            [logon] = await read_messages(stream, 1)
            assert logon[35] == "A"
            await stream.send_all(wire_message(ems, us, 1, "A", [(98, "0"), (108, "30")]))
            while not gateway.is_up:
                await trio.sleep(0.01)
            assert gateway.send_new(CHILD)
            assert gateway.mass_cancel("DERIBIT")
            sent = await read_messages(stream, 2)
            await stream.send_all(wire_message(ems, us, 2, "2", [(7, "2"), (16, "0")]))
            resent = await read_messages(stream, 2)
        await stream.aclose()
        nursery.cancel_scope.cancel()
    assert [(m[35], m[34], m.get(43)) for m in sent] == [("D", "2", None), ("q", "3", None)]
    gap_fill, mass_cancel = resent
    assert (gap_fill[35], gap_fill[34], gap_fill[36], gap_fill[123]) == ("4", "2", "3", "Y")
    assert (mass_cancel[35], mass_cancel[34], mass_cancel[43]) == ("q", "3", "Y")
    assert mass_cancel[11] == sent[1][11]
