"""Running the simulator: the FIX acceptor, the market ticker and the HTTP server, under Trio.

``serve_simulator`` is the one entry point: the daemon runs it in-process on its embedded
default, ``sor-daemon ems-sim`` runs it alone. Started with ``nursery.start`` it returns a
``SimulatorHandle`` once both ports accept connections; its ``faults`` switch the fault modes at
run time, as ``POST /v1/sim/faults`` does. It stops on cancellation, or in order
(HTTP gracefully, then the ticker, then the acceptor) after ``handle.stop()``; either way the
quickfix acceptor is stopped, since one left running can crash the interpreter at exit.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from functools import partial

import attrs
import hypercorn.trio
import structlog
import trio

from sor_daemon.http_server import server_config
from sor_daemon.sim.acceptor import EmsAcceptor
from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.faults import Faults, FaultSwitches
from sor_daemon.sim.http import create_app
from sor_daemon.sim.settings import SimulatorSettings
from sor_daemon.sim.ticker import Ticker

log = structlog.get_logger(__name__)


@attrs.frozen
class SimulatorHandle:
    """Where a running simulator listens, its state, its fault switches, a way to stop it."""

    fix_host: str
    fix_port: int
    http_url: str
    sender_comp_id: str
    target_comp_id: str
    exchange: SimulatedExchange
    faults: Faults
    _stop_requested: trio.Event = attrs.field(alias="stop_requested")

    def stop(self) -> None:
        """Ask ``serve_simulator`` to shut down in order and return."""
        self._stop_requested.set()


async def serve_simulator(
    settings: SimulatorSettings,
    *,
    task_status: trio.TaskStatus[SimulatorHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the simulated EMS until cancelled or ``handle.stop()``; start it with nursery.start."""
    now = datetime.now(UTC)
    exchange = SimulatedExchange(
        settings.instruments,
        settings.market,
        seed=settings.seed,
        start=now,
        run_id=f"{int(now.timestamp() * 1000):x}",
    )
    faults = Faults(FaultSwitches.from_settings(settings))
    fix_port = settings.fix_port or free_port(settings.host)
    acceptor = await trio.to_thread.run_sync(EmsAcceptor, settings, exchange, fix_port, faults)
    await trio.to_thread.run_sync(acceptor.start)
    try:
        ticker = Ticker(acceptor.application.tick, settings.market.step.total_seconds() / 2)
        ticker.start()
        try:
            await _serve_http(settings, exchange, acceptor, faults, task_status)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(ticker.stop)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(acceptor.stop)
        log.info("simulator stopped")


def free_port(host: str) -> int:
    """A TCP port free on ``host`` right now (quickfix cannot report the port it bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def _serve_http(
    settings: SimulatorSettings,
    exchange: SimulatedExchange,
    acceptor: EmsAcceptor,
    faults: Faults,
    task_status: trio.TaskStatus[SimulatorHandle],
) -> None:
    config = server_config(settings.host, settings.http_port)
    app = create_app(
        exchange,
        faults=faults,
        disconnect=partial(trio.to_thread.run_sync, acceptor.disconnect),
        api_key=settings.api_key,
    )
    stop_requested = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            partial(hypercorn.trio.serve, app, config, shutdown_trigger=stop_requested.wait)
        )
        handle = SimulatorHandle(
            fix_host=settings.host,
            fix_port=acceptor.port,
            http_url=binds[0],
            sender_comp_id=settings.sender_comp_id,
            target_comp_id=settings.target_comp_id,
            exchange=exchange,
            faults=faults,
            stop_requested=stop_requested,
        )
        log.info(
            "simulator listening",
            fix=f"{settings.host}:{acceptor.port}",
            http=handle.http_url,
            sender_comp_id=settings.sender_comp_id,
            target_comp_id=settings.target_comp_id,
            data_dir=str(settings.data_dir),
        )
        task_status.started(handle)
