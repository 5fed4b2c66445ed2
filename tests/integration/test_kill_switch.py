"""The kill switch against the real daemon and simulator: POST /v1/sor/halt cancels resting
orders at every venue with 35=q and stops every running smart order until POST /v1/sor/resume."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from sor_daemon.sim.service import free_port
from tests.integration.feed_client import new_order
from tests.sim.fix_client import connect
from tests.sim.test_fix_session import send_order
from tests.support.processes import (
    Simulator,
    remote_config,
    running_simulator,
    spawn_daemon,
    stop,
    wait_until_ready,
)

WAIT_SECONDS = 20


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Simulator]:
    directory = tmp_path / "sim"
    directory.mkdir()
    with running_simulator(directory) as simulator:
        yield simulator


async def place_resting_orders(simulator: Simulator, directory: Path) -> None:
    """Two GTC bids far below the market, on two venues, from a FIX client of our own."""
    handle = SimpleNamespace(
        fix_host="127.0.0.1",
        fix_port=simulator.fix_port,
        sender_comp_id="CoinAPI.OEML.FIX",
        target_comp_id="OMS.FIX.CLIENT",
    )
    async with connect(handle, directory) as client:  # type: ignore[arg-type]
        for number, (exchange, symbol) in enumerate(
            [("DERIBIT", "DERIBIT_PERP_BTC_USD"), ("KRAKEN", "KRAKEN_SPOT_BTC_USD")]
        ):
            send_order(
                client,
                f"resting-{number}",
                exchange=exchange,
                symbol=symbol,
                price="1000",
                quantity="1",
                time_in_force="1",
            )
            report = await client.expect("8")
            assert report[39] == "0", report  # New: resting on the book


def eventually(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


async def test_halt_mass_cancels_resting_orders_and_stops_smart_orders_until_resume(
    simulator: Simulator, tmp_path: Path
) -> None:
    await place_resting_orders(simulator, tmp_path / "client")
    assert len(httpx.get(f"{simulator.url}/v1/orders").json()) == 2

    api_port = free_port("127.0.0.1")
    config = remote_config(tmp_path, simulator, api_port)
    log_path = tmp_path / "daemon.log"
    process = spawn_daemon(config, log_path)
    api = f"http://127.0.0.1:{api_port}/v1/sor"
    try:
        wait_until_ready(process, f"http://127.0.0.1:{api_port}", log_path)
        order_id = httpx.post(
            f"{api}/add",
            json=new_order("halted-twap", "6", "1MIN", "1SEC"),
        ).json()["id"]

        def executed() -> int:
            executions = httpx.get(f"{simulator.url}/v1/sim/executions").json()
            return sum(1 for child in executions if child.startswith(f"{order_id}-"))

        eventually(lambda: executed() >= 2, "the smart order's first children")

        answer = httpx.post(f"{api}/halt", json={"reason": "desk drill"})
        assert answer.status_code == 200, (answer.status_code, answer.text)
        halted = answer.json()
        assert halted["halted"] is True and halted["reason"] == "desk drill"
        assert set(halted["massCancel"].values()) == {"sent"}
        eventually(lambda: httpx.get(f"{simulator.url}/v1/orders").json() == [], "mass cancel")

        def view() -> dict:
            return next(o for o in httpx.get(f"{api}/requests").json() if o["id"] == order_id)

        eventually(lambda: view()["statusInfo"] == "halted: desk drill", "the halted status")
        sent_while_halted = executed()
        time.sleep(2)  # two slices come due while halted
        assert executed() == sent_while_halted
        assert view()["status"] == "Running"

        assert httpx.post(f"{api}/resume").json() == {"halted": False}
        eventually(lambda: executed() > sent_while_halted, "children after the resume")
        httpx.post(f"{api}/cancel/{order_id}")
    finally:
        assert stop(process) == 0, log_path.read_text()
