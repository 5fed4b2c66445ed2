"""SIGKILL the daemon mid-order, restart it, and check that no money was lost or doubled.

The simulator runs as its own process for the whole test, so it remembers what it executed while
the daemon is dead. Each trial starts a daemon on a fresh data directory, submits several TWAP
orders, kills the daemon (at a random moment, or exactly at a failpoint: a child journaled but
not yet sent, a fill received but not yet journaled), restarts it on the same data directory, lets
every order finish, and checks each order against the simulator's ledger, the FIX log and the
journal.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from sor_daemon.domain.events import OrderAccepted
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.sim.service import free_port
from sor_daemon.store.journal import Journal
from tests.support.processes import (
    Simulator,
    remote_config,
    running_simulator,
    spawn_daemon,
    stop,
    wait_until_ready,
)

ORDERS = [
    ("DERIBIT", "BTC-USD", "perpetual", "buy", "2"),
    ("DERIBIT", "BTC-USD", "perpetual", "sell", "1.5"),
    ("KRAKEN", "BTC-USD", "spot", "buy", "0.4"),
]
TRIALS = [
    ("child_journaled", 1),
    ("child_journaled", 6),
    ("report_received", 1),
    ("report_received", 7),
    ("random", 0),
    ("random", 0),
]
CLORDID = re.compile(r"\x0135=D\x01.*?\x0111=([^\x01]+)\x01")


@pytest.fixture(scope="module", params=[True, False], ids=["reset-on-logon", "persistent-seqnums"])
def simulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Simulator]:
    """The EMS, either resetting sequence numbers at every logon (CoinAPI's sample: the gap is
    covered by reconciliation) or keeping them (missed reports come back by resend)."""
    with running_simulator(tmp_path_factory.mktemp("simulator"), request.param) as simulator:
        yield simulator


def submit_orders(api_url: str, prefix: str) -> None:
    """Submit every order; the daemon may die meanwhile, which is the point."""
    for number, (exchange, symbol, kind, side, amount) in enumerate(ORDERS):
        body = {
            "id": f"{prefix}-{number}",
            "Algorithm": "TWAP",
            "Exchanges": [exchange],
            "Parameters": {
                "side": side,
                "symbol": symbol,
                "symbol_type": kind,
                "amount": amount,
                "duration": "3SEC",
                "interval": "1SEC",
            },
        }
        try:
            httpx.post(f"{api_url}/v1/sor/add", json=body, timeout=5)
        except httpx.HTTPError:
            return


def wait_until_all_over(api_url: str, log_path: Path) -> list[dict]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        views = httpx.get(f"{api_url}/v1/sor/requests", timeout=5).json()
        if all(view["status"] != "Running" for view in views):
            return views
        time.sleep(0.2)
    pytest.fail(f"orders did not finish after the restart:\n{log_path.read_text()}")


def replay(journal_path: Path) -> dict[str, SmartOrder]:
    journal = Journal(journal_path)
    orders: dict[str, SmartOrder] = {}
    for event in journal.replay():
        if isinstance(event, OrderAccepted):
            orders[event.order_id] = SmartOrder.accept(event)
        else:
            orders[event.order_id].apply(event)
    journal.close()
    return orders


@pytest.mark.parametrize(("failpoint", "count"), TRIALS)
def test_a_killed_daemon_neither_loses_nor_doubles_money(
    simulator: Simulator, tmp_path: Path, failpoint: str, count: int
) -> None:
    api_port = free_port("127.0.0.1")
    api_url = f"http://127.0.0.1:{api_port}"
    config = remote_config(tmp_path, simulator, api_port)
    log_path = tmp_path / "daemon.log"
    prefix = tmp_path.name.replace("_", "-")[-40:]
    env = {} if failpoint == "random" else {"SOR_CRASH_AT": f"{failpoint}:{count}"}

    first = spawn_daemon(config, log_path, env)
    wait_until_ready(first, api_url, log_path)
    submit_orders(api_url, prefix)
    if failpoint == "random":
        time.sleep(random.Random(prefix).uniform(0.1, 3.5))
        first.kill()
    assert first.wait(timeout=30) == -9, "the daemon was not killed"

    second = spawn_daemon(config, log_path)
    try:
        wait_until_ready(second, api_url, log_path)
        views = {view["id"]: view for view in wait_until_all_over(api_url, log_path)}
        ledger = httpx.get(f"{simulator.url}/v1/sim/executions", timeout=5).json()
    finally:
        assert stop(second) == 0, log_path.read_text()

    journaled = replay(tmp_path / "data" / "journal.sqlite")
    assert set(journaled) == set(views)
    fix_log = next((tmp_path / "data" / "fix" / "ems" / "log").glob("*OMS*messages*.log"))
    sent = Counter(CLORDID.findall(fix_log.read_text(errors="replace")))
    assert sent and max(sent.values()) == 1, f"child orders sent twice: {sent.most_common(3)}"
    for order_id, view in views.items():
        order = journaled[order_id]
        executed = sum(
            (
                Decimal(str(e["cum_qty"]))
                for child, e in ledger.items()
                if child.rpartition("-")[0] == order_id
            ),
            Decimal(0),
        )
        filled = sum((Decimal(str(f["amountFilled"])) for f in view["fills"]), Decimal(0))
        assert filled == order.filled == executed, (order_id, log_path.read_text()[-3000:])
        assert filled <= Decimal(str(view["amount"]))
        assert view["status"] == order.status.value
        assert len(view["fills"]) == len(order.fills)
        assert set(order.children) >= {c for c in sent if c.rpartition("-")[0] == order_id}
