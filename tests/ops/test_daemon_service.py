"""The real daemon as a process under a stand-in for systemd: a datagram socket as its
NOTIFY_SOCKET, signals as systemd sends them, /health and /metrics as probes read them."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sor_daemon.sim.service import free_port
from tests.support.processes import spawn_daemon, stop, wait_until_ready, write_config


class SystemdStandIn:
    """The notify socket: every datagram the daemon sends, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(60)
        self.received: list[str] = []

    def until(self, line: str) -> list[str]:
        """Read datagrams until one holds ``line``; everything read so far."""
        while not any(line in message.splitlines() for message in self.received):
            self.received.append(self._sock.recv(4096).decode())
        return self.received

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[SystemdStandIn]:
    stand_in = SystemdStandIn(tmp_path / "notify.sock")
    yield stand_in
    stand_in.close()


def env_for(systemd: SystemdStandIn) -> dict[str, str]:
    return {"NOTIFY_SOCKET": str(systemd.path), "WATCHDOG_USEC": "1000000"}


def metrics(api_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{api_url}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def add_twap(api_url: str, order_id: str, duration: str) -> None:
    body = {
        "id": order_id,
        "Algorithm": "TWAP",
        "Exchanges": ["KRAKEN"],
        "Parameters": {
            "side": "buy",
            "symbol": "BTC-USD",
            "symbol_type": "spot",
            "amount": "0.4",
            "duration": duration,
            "interval": "1SEC",
        },
    }
    httpx.post(f"{api_url}/v1/sor/add", json=body, timeout=5).raise_for_status()


def status_of(api_url: str, order_id: str) -> str:
    orders = httpx.get(f"{api_url}/v1/sor/requests", timeout=5).json()
    (order,) = [o for o in orders if o["id"] == order_id]
    return order["status"]


def wait_for(condition: object, what: str, log_path: Path, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen:\n{log_path.read_text()}")
        time.sleep(0.1)


def test_notify_metrics_reload_and_graceful_stop_with_resume(
    tmp_path: Path, systemd: SystemdStandIn
) -> None:
    api_port, sim_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    config = write_config(tmp_path, api_port, sim_port)
    log_path = tmp_path / "daemon.log"
    api_url = f"http://127.0.0.1:{api_port}"
    process = spawn_daemon(config, log_path, env_for(systemd))
    try:
        systemd.until("READY=1")
        wait_until_ready(process, api_url, log_path)
        health = httpx.get(f"{api_url}/health", timeout=5)
        assert health.status_code == 200
        assert health.json() == {
            "status": "ok",
            "ems_session": "up",
            "market_data_session": "up",
            "journal": "open",
            "halted": False,
        }
        before = metrics(api_url)

        add_twap(api_url, "short", "2SEC")
        wait_for(lambda: status_of(api_url, "short") == "Completed", "the TWAP", log_path)
        after = metrics(api_url)
        sent = ("sor_child_orders_total", (("exchange", "KRAKEN"), ("outcome", "sent")))
        filled = ("sor_child_orders_total", (("exchange", "KRAKEN"), ("outcome", "filled")))
        assert after[sent] >= 3 and after[filled] >= 1
        assert after[("sor_fill_latency_seconds_count", (("exchange", "KRAKEN"),))] >= 1
        commits = ("sor_journal_commit_seconds_count", ())
        assert after[commits] > before.get(commits, 0)
        assert after[("sor_smart_orders", (("status", "Completed"),))] == 1
        assert after[("sor_fix_session_up", (("session", "ems"),))] == 1
        assert after[("sor_fix_next_sender_seq_num", (("session", "ems"),))] > 1
        assert ("sor_feed_subscribers", ()) in after
        for walk in ("new", "complete"):
            assert ("sor_gc_pause_seconds_count", (("walk", walk),)) in after

        # SIGHUP with a broken file keeps the running config; with debug on, FIX lines appear.
        text = config.read_text()
        config.write_text(text + "[nonsense]\n")
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: "config reload refused" in log_path.read_text(), "refusal", log_path)
        config.write_text(text.replace('log_level = "info"', 'log_level = "debug"'))
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: '"log_level debug"' in log_path.read_text(), "the reload", log_path)
        wait_for(lambda: '"FIX message"' in log_path.read_text(), "a FIX debug line", log_path)

        add_twap(api_url, "long", "6SEC")
        wait_for(lambda: "child order sent" in log_path.read_text(), "a first slice", log_path)
    finally:
        returncode = stop(process)
    assert returncode == 0, log_path.read_text()
    messages = systemd.until("STOPPING=1")
    ready = next(i for i, m in enumerate(messages) if "READY=1" in m)
    watchdog = next(i for i, m in enumerate(messages) if m == "WATCHDOG=1\n" and i > ready)
    stopping = next(i for i, m in enumerate(messages) if "STOPPING=1" in m)
    assert ready < watchdog < stopping
    statuses = [m for m in messages if m.startswith("STATUS=")]
    assert statuses[:3] == [
        "STATUS=starting\n",
        "STATUS=recovering the journal\n",
        "STATUS=waiting for the EMS session\n",
    ]
    assert "STATUS=ready: 0 running orders" in messages[ready]
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line[:1] == "{"]
    assert not any("554=" in line.get("fix", "") and "554=***" not in line["fix"] for line in lines)

    # The order that was running resumes on the next start and finishes.
    config.write_text(text)
    process = spawn_daemon(config, log_path, env_for(systemd))
    try:
        wait_until_ready(process, api_url, log_path)
        wait_for(lambda: status_of(api_url, "long") != "Running", "the resumed order", log_path)
        assert status_of(api_url, "long") in {"Completed", "Expired"}
    finally:
        assert stop(process) == 0, log_path.read_text()


def test_ready_after_the_startup_grace_with_the_ems_down(
    tmp_path: Path, systemd: SystemdStandIn
) -> None:
    api_port = free_port("127.0.0.1")
    config = tmp_path / "sor-daemon.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[api]\nlisten = "127.0.0.1:{api_port}"\n'
        f'[ems]\nmode = "remote"\nport = {free_port("127.0.0.1")}\n'
        f'[market_data]\nmode = "remote"\nport = {free_port("127.0.0.1")}\napi_key = "k"\n'
        '[service]\nstartup_grace = "1SEC"\n',
        encoding="utf-8",
    )
    log_path = tmp_path / "daemon.log"
    process = spawn_daemon(config, log_path, env_for(systemd))
    try:
        messages = systemd.until("READY=1")
        assert "STATUS=ready: 0 running orders, EMS session down" in messages[-1]
        health = httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=5)
        assert health.status_code == 503
        assert health.json()["ems_session"] == "down"
        assert health.json()["market_data_session"] == "down"
        assert httpx.get(f"http://127.0.0.1:{api_port}/health/live", timeout=5).status_code == 200
    finally:
        assert stop(process) == 0, log_path.read_text()
    assert isinstance(process, subprocess.Popen)
