"""A FIX order-entry client that stops reading holds up its own session, and nothing else.

The client is a plain socket with a small receive buffer: it logs on, sends NewOrderSingles the
daemon refuses, and reads nothing. Each refusal echoes the order's Symbol, here a long one, so
the answers are more than the kernel can hold in both socket buffers. Every refusal must still
be made (the daemon logs each), the API must go on answering meanwhile, and once the client
reads, every answer must reach it, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import trio

from sor_daemon.fix.dialect import timestamp
from sor_daemon.sim.service import free_port
from tests.integration.test_fix_order_entry import OURS, THEIRS, order_entry_on
from tests.support.processes import DaemonProcess, running_daemon
from tests.support.raw_fix import logged_on, most_the_kernel_holds, read_messages, send_orders

SYMBOL_CHARACTERS = 1 << 16
WAIT_SECONDS = 60
REFUSED = "FIX parent order rejected"


@pytest.fixture
def entry(tmp_path: Path) -> Iterator[tuple[DaemonProcess, int]]:
    """A daemon with FIX order entry on for one client, and the port it accepts on."""
    port = free_port("127.0.0.1")
    with running_daemon(tmp_path, order_entry_on(port)) as daemon:
        yield daemon, port


def refused_order(cl_ord_id: str, symbol: str) -> list[tuple[int, str]]:
    """A NewOrderSingle for a strategy the daemon does not offer: refused with a 35=8 that
    echoes ``symbol``."""
    now = timestamp(datetime.now(UTC))
    return [
        (11, cl_ord_id),
        (55, symbol),
        (54, "1"),
        (38, "1"),
        (40, "1"),
        (847, "9999"),
        (60, now),
    ]


def refusals_logged(daemon: DaemonProcess) -> int:
    """How many refusals the daemon has made: it logs each on the Trio thread, before sending."""
    return daemon.log_path.read_text().count(REFUSED)


async def test_a_client_that_stops_reading_holds_up_only_its_own_session(
    entry: tuple[DaemonProcess, int],
) -> None:
    daemon, port = entry
    orders = 2 * most_the_kernel_holds() // SYMBOL_CHARACTERS + 1
    symbol = "X" * SYMBOL_CHARACTERS
    async with await logged_on("127.0.0.1", port, THEIRS, OURS) as stream:
        refused = (refused_order(f"stuck-{number}", symbol) for number in range(orders))
        await send_orders(stream, THEIRS, OURS, refused)

        with trio.fail_after(WAIT_SECONDS):
            while refusals_logged(daemon) < orders:
                await trio.sleep(0.1)
        async with httpx.AsyncClient(base_url=daemon.api_url, timeout=WAIT_SECONDS) as api:
            (await api.get("/v1/sor/requests")).raise_for_status()

        with trio.fail_after(WAIT_SECONDS):
            logon_reply, *answers = await read_messages(stream, 1 + orders)

    assert logon_reply[35] == "A"
    assert [answer[11] for answer in answers] == [f"stuck-{n}" for n in range(orders)]
    assert {(answer[35], answer[150], answer[39]) for answer in answers} == {("8", "8", "8")}
    assert {answer[55] for answer in answers} == {symbol}
    assert [int(answer[34]) for answer in answers] == list(range(2, orders + 2))
