"""Running the simulator: two FIX acceptors, the market ticker and the HTTP server, under Trio.

``serve_simulator`` is the one entry point: the daemon runs it in-process on its embedded
default, ``sor-daemon ems-sim`` runs it alone. Started with ``nursery.start`` it returns a
``SimulatorHandle`` once every port accepts connections: the EMS acceptor, the market-data
acceptor and HTTP. Its ``faults`` switch the fault modes at run time, as ``POST /v1/sim/faults``
does. The ticker steps the market, sends what resting orders did, then publishes market data.
It stops on cancellation, or in order (HTTP gracefully, then the ticker, then the market-data
acceptor and the EMS acceptor) after ``handle.stop()``; either way both quickfix acceptors are
stopped, since one left running can crash the interpreter at exit.
"""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar

import attrs
import hypercorn.trio
import structlog
import trio

from sor_daemon.http_server import server_config
from sor_daemon.sim.acceptor import EmsAcceptor, EmsApplication
from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.faults import Faults, FaultSwitches
from sor_daemon.sim.http import create_app
from sor_daemon.sim.mdacceptor import MarketDataAcceptor, MarketDataApplication
from sor_daemon.sim.settings import SimulatorSettings
from sor_daemon.sim.ticker import Ticker

log = structlog.get_logger(__name__)


@attrs.frozen
class SimulatorHandle:
    """Where a running simulator listens, its state, its fault switches, a way to stop it.

    The EMS session is ``fix_host:fix_port`` with ``sender_comp_id``/``target_comp_id`` (the
    simulator's side); the market-data session is ``fix_host:md_port``, where a client logs on
    with SenderCompID ``md_api_key`` and TargetCompID ``COINAPI_V2``.
    """

    fix_host: str
    fix_port: int
    http_url: str
    sender_comp_id: str
    target_comp_id: str
    md_port: int
    md_api_key: str
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
    md_port = settings.md_port or free_port(settings.host)
    try:
        async with (
            _running(partial(EmsAcceptor, settings, exchange, fix_port, faults)) as acceptor,
            _running(
                partial(MarketDataAcceptor, settings, exchange, md_port, faults)
            ) as md_acceptor,
        ):
            tick = partial(_tick, acceptor.application, md_acceptor.application)
            ticker = Ticker(tick, settings.market.step.total_seconds() / 2)
            ticker.start()
            try:
                await _serve_http(settings, exchange, acceptor, md_acceptor, faults, task_status)
            finally:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(ticker.stop)
    finally:
        log.info("simulator stopped")


class _Acceptor(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


_AcceptorT = TypeVar("_AcceptorT", bound=_Acceptor)


@asynccontextmanager
async def _running(build: Callable[[], _AcceptorT]) -> AsyncIterator[_AcceptorT]:
    """Build and start a quickfix acceptor off the Trio thread; stop it on the way out."""
    acceptor = await trio.to_thread.run_sync(build)
    await trio.to_thread.run_sync(acceptor.start)
    try:
        yield acceptor
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(acceptor.stop)


def _tick(ems: EmsApplication, market_data: MarketDataApplication) -> None:
    """One ticker beat: step the market and send what resting orders did, then market data."""
    ems.tick()
    market_data.publish()


FIRST_PICKED_PORT = 20000
FREE_PORT_TRIES = 50
_EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
_EPHEMERAL_PORTS_START = 32768
"""Linux's default start of the ephemeral range, where the kernel's setting cannot be read."""
_handed_out: set[int] = set()
"""The ports ``free_port`` has picked in this process."""


def free_port(host: str) -> int:
    """A TCP port free on ``host`` right now (quickfix cannot report the port it bound).

    The port is bound later, so it is picked below the kernel's ephemeral range: one from that
    range can be taken meanwhile as the local end of any outgoing connection (the test suite
    once saw a restarted daemon's API port taken before the daemon bound it). Nor is a port
    handed out twice by one process: two picked before either is bound (the simulator's two
    acceptors) could otherwise be the same one."""
    below = _ephemeral_ports_start()
    for _ in range(FREE_PORT_TRIES):
        port = random.randrange(FIRST_PICKED_PORT, below)
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _ephemeral_ports_start() -> int:
    try:
        start = int(_EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        start = _EPHEMERAL_PORTS_START
    return max(start, FIRST_PICKED_PORT + 1)


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def _serve_http(
    settings: SimulatorSettings,
    exchange: SimulatedExchange,
    acceptor: EmsAcceptor,
    md_acceptor: MarketDataAcceptor,
    faults: Faults,
    task_status: trio.TaskStatus[SimulatorHandle],
) -> None:
    config = server_config(settings.host, settings.http_port)
    app = create_app(
        exchange,
        faults=faults,
        fill_times=acceptor.application.fill_times,
        disconnect=partial(trio.to_thread.run_sync, acceptor.disconnect),
        subscriptions=partial(trio.to_thread.run_sync, md_acceptor.application.subscriptions),
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
            md_port=md_acceptor.port,
            md_api_key=settings.md_api_key,
            exchange=exchange,
            faults=faults,
            stop_requested=stop_requested,
        )
        log.info(
            "simulator listening",
            fix=f"{settings.host}:{acceptor.port}",
            market_data_fix=f"{settings.host}:{md_acceptor.port}",
            md_api_key=settings.md_api_key,
            http=handle.http_url,
            sender_comp_id=settings.sender_comp_id,
            target_comp_id=settings.target_comp_id,
            data_dir=str(settings.data_dir),
        )
        task_status.started(handle)
