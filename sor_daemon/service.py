"""Wiring: the journal, the EMS and market-data sessions, the engine and the API, started in
order in one nursery.

On the embedded default the bundled simulator starts first, in the same process, and both FIX
sessions connect to it on loopback exactly as they would to a remote EMS and market-data server:
what the daemon sees of the market is the simulated market its orders fill against.
"""

from __future__ import annotations

import attrs
import hypercorn.trio
import structlog
import trio

from sor_daemon import http_server
from sor_daemon.api.app import build_app
from sor_daemon.coinapi.account import EmsAccount
from sor_daemon.coinapi.ohlcv import OhlcvClient
from sor_daemon.coinapi.rest import CoinApiRest
from sor_daemon.config import Config, EmsConfig, MarketDataConfig, parse_listen
from sor_daemon.engine.clock import SystemClock
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.runner import Services
from sor_daemon.fix.ems import EmsGateway
from sor_daemon.fix.market_data import MarketDataSession
from sor_daemon.market.service import MarketData
from sor_daemon.sim.service import SimulatorHandle, serve_simulator
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
        md_port=sim.md_port,
        seed=sim.seed,
        sender_comp_id=config.ems.target_comp_id,
        target_comp_id=config.ems.sender_comp_id,
        reset_on_logon=sim.reset_on_logon,
        reset_on_logout=sim.reset_on_logon,
        reset_on_disconnect=sim.reset_on_logon,
        lean_reports=sim.lean_reports,
        instruments=config.instruments(),
        market=config.simulator_market(),
    )


async def run_daemon(
    config: Config, *, task_status: trio.TaskStatus[DaemonHandle] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run the daemon until cancelled."""
    instruments = config.instruments()
    trading = config.trading_settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal(config.data_dir / "journal.sqlite")
    try:
        async with trio.open_nursery() as nursery:
            simulator = None
            if config.needs_simulator:
                simulator = await nursery.start(serve_simulator, simulator_settings(config))
            ems = ems_config(config, simulator)
            market_data = market_data_config(config, simulator)
            await nursery.start(journal.run)
            gateway = EmsGateway(ems, config.data_dir)
            await nursery.start(gateway.run)
            session = MarketDataSession(market_data, config.data_dir)
            await nursery.start(session.run)
            ohlcv = CoinApiRest(
                market_data.rest_url, market_data.api_key, key_setting="market_data.api_key"
            )
            clock = SystemClock()
            market = MarketData(session, OhlcvClient(ohlcv), clock, depth=market_data.depth)
            await nursery.start(market.run)
            services = Services(
                journal=journal,
                gateway=gateway,
                market=market,
                feed=Feed(),
                clock=clock,
                settings=trading,
            )
            engine = Engine(services, instruments, gateway.events)
            await nursery.start(engine.run)
            account = EmsAccount(CoinApiRest(ems.rest_url, ems.api_key))
            binds = await nursery.start(serve_api, build_app(engine, account), config)
            log.info(
                "sor-daemon listening",
                api=binds,
                ems=f"{ems.host}:{ems.port}",
                ems_mode=ems.mode,
                ems_rest=ems.rest_url,
                market_data=f"{market_data.host}:{market_data.port}",
                market_data_mode=market_data.mode,
                ohlcv_rest=market_data.rest_url,
                data_dir=str(config.data_dir.resolve()),
            )
            task_status.started(DaemonHandle(api_url=binds[0], engine=engine))
    finally:
        journal.close()


def ems_config(config: Config, simulator: SimulatorHandle | None) -> EmsConfig:
    """The EMS to connect to: the configured one, or the embedded simulator's ports."""
    if config.ems.mode != "embedded" or simulator is None:
        return config.ems
    return attrs.evolve(
        config.ems, host=simulator.fix_host, port=simulator.fix_port, rest_url=simulator.http_url
    )


def market_data_config(config: Config, simulator: SimulatorHandle | None) -> MarketDataConfig:
    """The market-data server to follow: the configured one, or the embedded simulator's, whose
    OHLCV endpoints are on its HTTP port and whose key is its own."""
    if config.market_data.mode != "embedded" or simulator is None:
        return config.market_data
    return attrs.evolve(
        config.market_data,
        host=simulator.fix_host,
        port=simulator.md_port,
        api_key=simulator.md_api_key,
        rest_url=simulator.http_url,
    )


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
