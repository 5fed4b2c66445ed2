"""The EMS session over TLS with client certificates, as CoinAPI's managed cloud runs it.

Certificates are made with trustme (``tests.support.pki``): one CA issues the simulator's
server certificate (for 127.0.0.1 and localhost) and the daemon's client certificate; another
CA issues a client certificate the simulator must refuse. The first test runs both ends as
processes, exactly as configured by a user; the other runs ``EmsGateway`` in process against
``serve_simulator``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import trio

from sor_daemon.fix.ems import EmsGateway, EmsSettings
from sor_daemon.sim.service import SimulatorHandle, free_port, serve_simulator
from sor_daemon.sim.settings import SimulatorSettings
from tests.integration.feed_client import new_order
from tests.support.pki import Pki, make_pki
from tests.support.processes import (
    Simulator,
    remote_config,
    running_simulator,
    spawn_daemon,
    stop,
    wait_until_ready,
)

REFUSAL_WAIT_SECONDS = 4
LOGON_LIMIT_SECONDS = 20


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_simulator(tmp_path: Path, pki: Pki) -> Iterator[Simulator]:
    """``sor-daemon ems-sim --tls-cert --tls-key --tls-client-ca`` as a process."""
    options = ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key)]
    options += ["--tls-client-ca", str(pki.ca)]
    directory = tmp_path / "simulator"
    directory.mkdir()
    with running_simulator(directory, options=options) as simulator:
        yield simulator


def test_the_daemon_logs_on_over_tls_with_its_certificate_and_a_twap_completes(
    tls_simulator: Simulator, pki: Pki, tmp_path: Path
) -> None:
    api_port = free_port("127.0.0.1")
    api_url = f"http://127.0.0.1:{api_port}"
    config = remote_config(tmp_path, tls_simulator, api_port)
    tls = (
        f'[ems]\ntls = true\ntls_ca = "{pki.ca}"\n'
        f'tls_cert = "{pki.client_cert}"\ntls_key = "{pki.client_key}"\n'
    )
    config.write_text(config.read_text().replace("[ems]\n", tls, 1))
    log_path = tmp_path / "daemon.log"
    process = spawn_daemon(config, log_path)
    try:
        wait_until_ready(process, api_url, log_path)
        body = new_order("tls-twap-1", "1", "2SEC", "1SEC")
        httpx.post(f"{api_url}/v1/sor/add", json=body, timeout=5).raise_for_status()
        deadline = time.monotonic() + 60
        while True:
            [view] = [
                v
                for v in httpx.get(f"{api_url}/v1/sor/requests", timeout=5).json()
                if v["id"] == "tls-twap-1"
            ]
            if view["status"] != "Running" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert view["status"] == "Completed", log_path.read_text()
        executions = httpx.get(f"{tls_simulator.url}/v1/sim/executions", timeout=5).json()
        assert executions, "the simulator executed nothing"
    finally:
        assert stop(process) == 0, log_path.read_text()
    events = "".join(
        path.read_text()
        for path in (tmp_path / "data" / "fix" / "ems").rglob("*.event.current.log")
    )
    assert "Loading SSL certificate" in events and "client certificate" in events


@pytest.fixture
async def tls_sim(tmp_path: Path, pki: Pki) -> AsyncIterator[SimulatorHandle]:
    """An in-process simulator whose EMS session requires client certificates from ``pki``."""
    settings = SimulatorSettings(
        data_dir=tmp_path / "sim",
        fix_port=0,
        http_port=0,
        md_port=0,
        seed=7,
        tls_cert=pki.server_cert,
        tls_key=pki.server_key,
        tls_client_ca=pki.ca,
    )
    async with trio.open_nursery() as nursery:
        yield await nursery.start(serve_simulator, settings)
        nursery.cancel_scope.cancel()


async def logs_on(settings: EmsSettings, data_dir: Path, seconds: float) -> bool:
    """Run a gateway with ``settings`` for up to ``seconds``; True once it is logged on. The
    gateway is stopped (its initiator too) before this returns."""
    gateway = EmsGateway(settings, data_dir)
    async with trio.open_nursery() as nursery:
        await nursery.start(gateway.run)
        with trio.move_on_after(seconds):
            while not gateway.is_up:
                await trio.sleep(0.05)
        up = gateway.is_up
        nursery.cancel_scope.cancel()
    return up


def ems_settings(sim: SimulatorHandle, **tls: object) -> EmsSettings:
    return EmsSettings(
        host=sim.fix_host,
        port=sim.fix_port,
        sender_comp_id=sim.target_comp_id,
        target_comp_id=sim.sender_comp_id,
        **tls,  # type: ignore[arg-type]
    )


async def test_only_a_client_certificate_from_the_trusted_ca_logs_on(
    tls_sim: SimulatorHandle, pki: Pki, tmp_path: Path
) -> None:
    """One simulator for every client: its SSL acceptor's stop waits up to ten seconds for a
    refused client's last handshake, so starting one per client would only be slower."""
    refused: dict[str, dict[str, object]] = {
        "no-certificate": {"tls": True, "tls_ca": pki.ca},
        "other-ca": {
            "tls": True,
            "tls_ca": pki.ca,
            "tls_cert": pki.stranger_cert,
            "tls_key": pki.stranger_key,
        },
        "plain-tcp": {},
    }
    for client, tls in refused.items():
        settings = ems_settings(tls_sim, **tls)
        assert not await logs_on(settings, tmp_path / client, REFUSAL_WAIT_SECONDS), client
    trusted = ems_settings(
        tls_sim, tls=True, tls_ca=pki.ca, tls_cert=pki.client_cert, tls_key=pki.client_key
    )
    assert await logs_on(trusted, tmp_path / "trusted", LOGON_LIMIT_SECONDS)
