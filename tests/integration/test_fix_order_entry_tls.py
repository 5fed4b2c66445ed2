"""FIX order entry over TLS with client certificates, through the real daemon.

The daemon's order-entry acceptor presents a server certificate and requires a client
certificate from the CA of ``tests.support.pki``. A quickfix ``SSLSocketInitiator`` with one
logs on and trades; a plain-TCP client, one without a certificate and one with another CA's
never log on, and the daemon stays healthy meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
import trio

from sor_daemon.fix.dictionary import write_order_entry_dictionary
from sor_daemon.fix.settings import tls_client_settings
from sor_daemon.sim.service import free_port
from tests.integration.test_fix_order_entry import new_order, unique, until_final
from tests.sim.fix_client import FixClient, open_session
from tests.support.pki import Pki, make_pki
from tests.support.processes import DaemonProcess, running_daemon

OURS, THEIRS = "SOR", "DESK1"
REFUSAL_WAIT_SECONDS = 4


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), "desk1.example")


@pytest.fixture(scope="module")
def entry(
    tmp_path_factory: pytest.TempPathFactory, pki: Pki
) -> Iterator[tuple[DaemonProcess, int]]:
    """A daemon whose order entry takes one client, over TLS, with a certificate from ``pki``."""
    port = free_port("127.0.0.1")
    options = (
        f"[order_entry]\nport = {port}\ntls = true\n"
        f'tls_cert = "{pki.server_cert}"\ntls_key = "{pki.server_key}"\ntls_ca = "{pki.ca}"\n'
        f'[[order_entry.sessions]]\nsender_comp_id = "{OURS}"\ntarget_comp_id = "{THEIRS}"\n'
    )
    with running_daemon(tmp_path_factory.mktemp("daemon"), options) as daemon:
        yield daemon, port


def session(
    port: int, directory: Path, tls: Mapping[str, object] | None, logon_seconds: float = 20
) -> AbstractAsyncContextManager[FixClient]:
    """A session as the client, over TLS with the quickfix settings ``tls`` (None: plain TCP)."""
    directory.mkdir()
    return open_session(
        host="127.0.0.1",
        port=port,
        sender_comp_id=THEIRS,
        target_comp_id=OURS,
        dictionary=write_order_entry_dictionary(directory),
        directory=directory,
        tls=tls,
        logon_seconds=logon_seconds,
    )


async def test_a_client_with_a_certificate_from_the_ca_trades(
    entry: tuple[DaemonProcess, int], pki: Pki, tmp_path: Path
) -> None:
    daemon, port = entry
    order = unique("tls")
    tls = tls_client_settings(pki.ca, pki.client_cert, pki.client_key)
    async with session(port, tmp_path / "trusted", tls) as client:
        client.send_message(
            new_order(
                order,
                quantity="0.2",
                fields={100: "DERIBIT", 167: "perpetual"},
                parameters={"Duration": "2SEC", "Interval": "1SEC"},
            )
        )
        with trio.fail_after(30):
            reports = await until_final(client, order)
        async with httpx.AsyncClient() as http:
            health = (await http.get(f"{daemon.api_url}/health")).json()
    assert (reports[0][150], reports[0][39]) == ("0", "0"), reports[0]
    assert any(report[150] == "F" for report in reports), reports
    assert (reports[-1][39], reports[-1][14]) == ("2", "0.2"), reports[-1]
    assert health["order_entry"] == {THEIRS: "up"}


async def test_clients_without_a_trusted_certificate_never_log_on(
    entry: tuple[DaemonProcess, int], pki: Pki, tmp_path: Path
) -> None:
    daemon, port = entry
    refused: dict[str, Mapping[str, object] | None] = {
        "plain-tcp": None,
        "no-certificate": tls_client_settings(pki.ca, None, None),
        "other-ca": tls_client_settings(pki.ca, pki.stranger_cert, pki.stranger_key),
    }
    for name, tls in refused.items():
        with pytest.raises(trio.TooSlowError):
            async with session(port, tmp_path / name, tls, REFUSAL_WAIT_SECONDS):
                pass
    async with httpx.AsyncClient() as http:
        health = await http.get(f"{daemon.api_url}/health")
    assert health.status_code == 200, health.text
    assert health.json()["order_entry"] == {THEIRS: "down"}
    log = daemon.log_path.parent / "data/fix/order_entry/log/GLOBAL.event.current.log"
    assert "Failed to accept SSL connection" in log.read_text()  # refused in the handshake
