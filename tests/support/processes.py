"""The real daemon and the real simulator as separate processes, for tests and benchmarks.

A daemon is started with ``sor-daemon run --config`` exactly as a user would start it, its
readiness is read from ``GET /health``, and it is stopped with SIGTERM. The simulator runs as
``sor-daemon ems-sim``, as a remote EMS and market-data server would. Nothing here depends on
pytest, so the benchmarks in ``bench/`` start their processes the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import httpx

from sor_daemon.sim.service import free_port

STARTUP_LIMIT_SECONDS = 60


class StartupError(RuntimeError):
    """A process did not start or did not become ready; the message carries its log."""


@attrs.frozen
class DaemonProcess:
    """A running daemon: where its API and its embedded simulator's HTTP answer."""

    api_url: str
    ws_url: str
    sim_url: str
    log_path: Path
    pid: int


def write_config(directory: Path, api_port: int, sim_http_port: int, extra: str = "") -> Path:
    """A config file for a daemon on the embedded default with known ports; ``extra`` lines go
    in its [simulator] table (and may open tables of their own).

    The embedded simulator's FIX ports are picked here too, not left to the daemon: a port this
    process picked for the daemon to bind later (FIX order entry's) is free until then, and the
    daemon's own pick could land on it (a test once failed with "Address already in use")."""
    path = directory / "sor-daemon.toml"
    path.write_text(
        f'data_dir = "{directory / "data"}"\n'
        'log_level = "info"\n'
        "[api]\n"
        f'listen = "127.0.0.1:{api_port}"\n'
        "[simulator]\n"
        f"http_port = {sim_http_port}\n"
        f"fix_port = {free_port('127.0.0.1')}\n"
        f"md_port = {free_port('127.0.0.1')}\n"
        "seed = 7\n"
        f"{extra}\n"
        "[trading]\n"
        'price_tolerance_bps = "20"\n',
        encoding="utf-8",
    )
    return path


def wait_until_ready(process: subprocess.Popen[bytes], api_url: str, log_path: Path) -> None:
    """Poll /health until the EMS and market-data sessions are up; fail with the daemon's log if
    they never are. One client polls: each new one loads the CA certificates, about 28 ms of
    CPU, and ten a second took a quarter of a core from the daemon starting beside it."""
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    with httpx.Client(timeout=1) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = log_path.read_text()
                raise StartupError(f"the daemon exited with {process.returncode}:\n{log}")
            try:
                health = client.get(f"{api_url}/health").json()
                if health.get("ems_session") == "up" and health.get("market_data_session") == "up":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise StartupError(f"the daemon did not become ready:\n{log_path.read_text()}")


def spawn_daemon(
    config: Path, log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``sor-daemon run --config`` as a process, its output appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "sor_daemon.cli", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then wait (SIGKILL after 30 s); the exit status."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@contextlib.contextmanager
def daemon_process(
    config: Path,
    api_port: int,
    sim_url: str,
    log_path: Path,
    env: dict[str, str] | None = None,
) -> Iterator[DaemonProcess]:
    """Run the daemon on ``config`` (whose API listens on ``api_port``) until the block ends:
    ready when /health says so, stopped with SIGTERM, and required to exit cleanly."""
    process = spawn_daemon(config, log_path, env)
    api_url = f"http://127.0.0.1:{api_port}"
    try:
        wait_until_ready(process, api_url, log_path)
        yield DaemonProcess(
            api_url=api_url,
            ws_url=f"ws://127.0.0.1:{api_port}/v1/sor/ws",
            sim_url=sim_url,
            log_path=log_path,
            pid=process.pid,
        )
    finally:
        returncode = stop(process)
    assert returncode == 0, log_path.read_text()


@contextlib.contextmanager
def running_daemon(directory: Path, simulator_options: str = "") -> Iterator[DaemonProcess]:
    """A daemon on the embedded default in ``directory``; ``simulator_options`` are extra lines
    for its [simulator] table."""
    api_port, sim_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    config = write_config(directory, api_port, sim_port, simulator_options)
    sim_url = f"http://127.0.0.1:{sim_port}"
    with daemon_process(config, api_port, sim_url, directory / "daemon.log") as daemon:
        yield daemon


@attrs.frozen
class Simulator:
    """A simulator running as its own process."""

    fix_port: int
    md_port: int
    url: str
    reset_on_logon: bool


@contextlib.contextmanager
def running_simulator(
    directory: Path,
    reset_on_logon: bool = True,
    options: Sequence[str] = (),
    *,
    require_clean_stop: bool = True,
) -> Iterator[Simulator]:
    """``sor-daemon ems-sim [options]`` as a process, ready when its HTTP answers; stopped with
    SIGTERM, and required to exit cleanly unless ``require_clean_stop`` is false (a benchmark
    that drove the simulator past its limits has its figures by then, and only says so)."""
    fix_port, http_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    md_port = free_port("127.0.0.1")
    config = directory / "simulator.toml"
    config.write_text(f"[simulator]\nreset_on_logon = {str(reset_on_logon).lower()}\n")
    log_path = directory / "simulator.log"
    command = [sys.executable, "-m", "sor_daemon.cli", "ems-sim", "--config", str(config)]
    command += ["--data-dir", str(directory), "--fix-port", str(fix_port)]
    command += ["--http-port", str(http_port), "--md-port", str(md_port), "--seed", "11"]
    command += options
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    with httpx.Client(timeout=1) as client:  # one client: see wait_until_ready
        while True:
            try:
                client.get(f"{url}/v1/sim/executions").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = log_path.read_text()
                    raise StartupError(f"the simulator did not start:\n{log}") from None
                time.sleep(0.1)
    try:
        yield Simulator(fix_port, md_port, url, reset_on_logon)
    finally:
        returncode = stop(process)
    if returncode != 0:
        assert not require_clean_stop, log_path.read_text()
        print(f"the simulator exited with {returncode} (log: {log_path})", file=sys.stderr)


def remote_config(
    directory: Path, simulator: Simulator, api_port: int, extra: str = "", ems: str = ""
) -> Path:
    """A daemon config pointing at a simulator process, as at a remote EMS and market-data
    server; ``ems`` is added to the ``[ems]`` table (lines of keys), ``extra`` is appended (whole
    tables of its own)."""
    path = directory / "sor-daemon.toml"
    path.write_text(
        f'data_dir = "{directory / "data"}"\n'
        "[api]\n"
        f'listen = "127.0.0.1:{api_port}"\n'
        "[ems]\n"
        'mode = "remote"\n'
        f"port = {simulator.fix_port}\n"
        f'rest_url = "{simulator.url}"\n'
        f"reset_on_logon = {str(simulator.reset_on_logon).lower()}\n"
        f"{ems}"
        "[market_data]\n"
        'mode = "remote"\n'
        f"port = {simulator.md_port}\n"
        'api_key = "sim-market-data"\n'
        f'rest_url = "{simulator.url}"\n'
        "[trading]\n"
        'price_tolerance_bps = "20"\n'
        'reconcile_timeout = "3SEC"\n'
        f"{extra}",
        encoding="utf-8",
    )
    return path
