"""A client slow to read its reports must not stop the simulator reading its orders.

The client here is a plain socket speaking FIX text, so that it can do what quickfix never
does: keep writing orders while it reads nothing, with a small receive buffer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import trio

from sor_daemon.sim.fixcodec import format_timestamp
from sor_daemon.sim.service import SimulatorHandle
from tests.support.raw_fix import logged_on, read_messages, send_orders

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
    us, them = simulator.target_comp_id, simulator.sender_comp_id
    async with await logged_on(simulator.fix_host, simulator.fix_port, us, them) as stream:
        orders = (resting_order(f"S-{number}", price) for number in range(ORDERS))
        await send_orders(stream, us, them, orders)

        with trio.fail_after(WAIT):
            while len(simulator.exchange.open_orders()) < ORDERS:
                await trio.sleep(0.05)

            logon_reply, *reports = await read_messages(stream, 1 + ORDERS)

    assert logon_reply[35] == "A"
    assert [report[11] for report in reports] == [f"S-{number}" for number in range(ORDERS)]
    assert {(report[35], report[150], report[39]) for report in reports} == {("8", "0", "0")}
    assert [int(report[34]) for report in reports] == list(range(2, ORDERS + 2))
