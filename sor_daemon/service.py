"""Wiring: the journal, the EMS session, the engine and the API, started in order in one nursery.

On the embedded default the bundled simulator starts first, in the same process, and the EMS
session connects to it over FIX on loopback exactly as it would to a remote EMS.
"""

from __future__ import annotations

import attrs
import hypercorn.trio
import structlog
import trio

from sor_daemon import http_server
from sor_daemon.api.app import build_app
from sor_daemon.coinapi.account import EmsAccount
from sor_daemon.coinapi.rest import CoinApiRest
from sor_daemon.config import Config, parse_listen
from sor_daemon.engine.clock import SystemClock
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.runner import Services
from sor_daemon.fix.ems import EmsGateway
from sor_daemon.market.rest_quotes import RestQuoteSource
from sor_daemon.sim.service import serve_simulator
from sor_daemon.sim.settings import SimulatorSettings
from sor_daemon.store.journal import Journal

log = structlog.get_logger(__name__)


@attrs.frozen
class DaemonHandle:
    """What a running daemon tells whoever started it."""

    api_url: str
    engine: Engine


def simulator_settings(config: Config) -> SimulatorSettings:
    """The simulator's settings from the daemon's configuration."""
    sim = config.simulator
    return SimulatorSettings(
        data_dir=config.data_dir / "simulator",
        host=sim.host,
        fix_port=sim.fix_port,
        http_port=sim.http_port,
        seed=sim.seed,
        sender_comp_id=config.ems.target_comp_id,
        target_comp_id=config.ems.sender_comp_id,
        reset_on_logon=sim.reset_on_logon,
        reset_on_logout=sim.reset_on_logon,
        reset_on_disconnect=sim.reset_on_logon,
        lean_reports=sim.lean_reports,
        instruments=config.instruments(),
    )


async def run_daemon(
    config: Config, *, task_status: trio.TaskStatus[DaemonHandle] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run the daemon until cancelled."""
    instruments = config.instruments()
    trading = config.trading.settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal(config.data_dir / "journal.sqlite")
    try:
        async with trio.open_nursery() as nursery:
            ems = config.ems
            ems_host, ems_port, rest_url = ems.host, ems.port, ems.rest_url
            if ems.mode == "embedded":
                simulator = await nursery.start(serve_simulator, simulator_settings(config))
                ems_host, ems_port = simulator.fix_host, simulator.fix_port
                rest_url = simulator.http_url
            await nursery.start(journal.run)
            gateway = EmsGateway(attrs.evolve(ems, host=ems_host, port=ems_port), config.data_dir)
            await nursery.start(gateway.run)
            rest = CoinApiRest(rest_url, ems.api_key)
            clock = SystemClock()
            services = Services(
                journal=journal,
                gateway=gateway,
                quotes=RestQuoteSource(rest, clock, config.trading.quote_age),
                feed=Feed(),
                clock=clock,
                settings=trading,
            )
            engine = Engine(services, instruments, gateway.events)
            await nursery.start(engine.run)
            binds = await nursery.start(serve_api, build_app(engine, EmsAccount(rest)), config)
            log.info(
                "sor-daemon listening",
                api=binds,
                ems=f"{ems_host}:{ems_port}",
                ems_mode=ems.mode,
                ems_rest=rest_url,
                data_dir=str(config.data_dir.resolve()),
            )
            task_status.started(DaemonHandle(api_url=binds[0], engine=engine))
    finally:
        journal.close()


async def serve_api(
    app: object,
    config: Config,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the API with hypercorn's Trio worker; reports the bound addresses once listening."""
    host, port = parse_listen(config.api.listen)
    server_config = http_server.server_config(host, port)
    server_config.websocket_ping_interval = 20
    server_config.graceful_timeout = 5
    await hypercorn.trio.serve(app, server_config, task_status=task_status)  # type: ignore[arg-type]
