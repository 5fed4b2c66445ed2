"""The fault modes over real FIX on loopback: duplicates, PossDup replays, silence, a dropped line.

Every check waits on messages, never on time: a copy that should not be there is caught because
the next message is the answer to a later request instead.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import httpx

from sor_daemon.sim.service import SimulatorHandle

from .conftest import StartSimulator
from .fix_client import Fields, FixClient, connect, new_id
from .test_fix_session import (
    BTC_PERP,
    current_quote,
    far_below,
    send_cancel,
    send_order,
    send_status,
)

FINAL_STATUSES = ("2", "4", "8", "C")
PER_MESSAGE = (9, 10, 34, 52)


def content(report: Fields, *also: int) -> Fields:
    """What a copy must repeat: every field but the per-message ones (and ``also``)."""
    return {tag: value for tag, value in report.items() if tag not in (*PER_MESSAGE, *also)}


async def set_faults(handle: SimulatorHandle, **switches: bool) -> dict:
    async with httpx.AsyncClient(base_url=handle.http_url) as http:
        response = await http.post("/v1/sim/faults", json=switches)
    assert response.status_code == 200, response.text
    return response.json()


async def reports_with_copies(client: FixClient, cl_ord_id: str) -> list[tuple[Fields, Fields]]:
    """Every ExecutionReport of one order, each with the copy that must follow it."""
    pairs = []
    while True:
        original, copy = await client.expect("8"), await client.expect("8")
        assert original[37] == cl_ord_id, original
        pairs.append((original, copy))
        if original[39] in FINAL_STATUSES:
            return pairs


async def expect_status_of_unknown_order(client: FixClient) -> None:
    """Ask about an order that does not exist; its answer must be the next message."""
    send_status(client, "NO-SUCH-ORDER")
    status = await client.expect("8")
    assert (status[150], status[37]) == ("I", "NO-SUCH-ORDER"), status


async def test_duplicate_reports_arrive_twice_with_the_same_exec_id_and_cum_qty(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    simulator = await start_simulator(duplicate_reports=True)
    quote = await current_quote(simulator, BTC_PERP)
    async with connect(simulator, tmp_path) as client:
        order_id = new_id()
        send_order(client, order_id, price=int(quote["ask_price"] * 1.01), quantity="2")
        pairs = await reports_with_copies(client, order_id)
        await expect_status_of_unknown_order(client)

    assert pairs[0][0][150] == "0" and len(pairs) >= 2
    for original, copy in pairs:
        assert (copy[17], D(copy[14])) == (original[17], D(original[14]))
        assert content(copy) == content(original)
        assert int(copy[34]) == int(original[34]) + 1
        assert 43 not in original and 43 not in copy
    assert len({original[17] for original, _ in pairs}) == len(pairs)


async def test_poss_dup_copies_carry_43_and_122_until_switched_off(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    quote = await current_quote(simulator, BTC_PERP)
    async with connect(simulator, tmp_path) as client:
        assert (await set_faults(simulator, poss_dup_reports=True))["poss_dup_reports"] is True
        order_id = new_id()
        send_order(client, order_id, price=int(quote["ask_price"] * 1.01), quantity="2")
        pairs = await reports_with_copies(client, order_id)

        assert (await set_faults(simulator, poss_dup_reports=False))["poss_dup_reports"] is False
        plain_id = new_id()
        send_order(client, plain_id, price=far_below(quote), quantity="1")
        plain = await client.reports_until_done(plain_id)
        await expect_status_of_unknown_order(client)

    assert pairs[0][0][150] == "0" and len(pairs) >= 2
    for original, copy in pairs:
        assert 43 not in original and 122 not in original
        assert (copy[43], copy[122]) == ("Y", original[52])
        assert copy[122] <= copy[52]
        assert content(copy, 43, 122) == content(original)
        assert int(copy[34]) == int(original[34]) + 1
    assert [(r[150], 43 in r) for r in plain] == [("0", False), ("4", False)]


async def test_status_requests_go_unanswered_while_switched_off(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    async with connect(simulator, tmp_path) as client:
        switches = await set_faults(simulator, answer_status_requests=False)
        assert switches["answer_status_requests"] is False
        send_status(client, "NO-SUCH-ORDER")
        send_cancel(client, new_id("X"), "NO-SUCH-ORDER")
        assert (await client.receive())[35] == "9"

        await set_faults(simulator, answer_status_requests=True)
        await expect_status_of_unknown_order(client)
    assert simulator.faults.current().answer_status_requests is True


async def test_disconnect_drops_the_connection_and_the_client_logs_on_again(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    price = far_below(await current_quote(simulator, BTC_PERP))
    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        nobody = (await http.post("/v1/sim/disconnect")).json()
        async with connect(simulator, tmp_path) as client:
            dropped = (await http.post("/v1/sim/disconnect")).json()
            assert await client.session_event() == "logout"
            assert await client.session_event() == "logon"

            order_id = new_id()
            send_order(client, order_id, price=price, quantity="1")
            reports = await client.reports_until_done(order_id)
    assert (nobody, dropped) == ({"disconnected": 0}, {"disconnected": 1})
    assert [(r[150], r[39]) for r in reports] == [("0", "0"), ("4", "4")]
