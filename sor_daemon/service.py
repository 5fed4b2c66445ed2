"""Wiring: the journal, the EMS and market-data sessions, the engine and the API, started in
order in one nursery.

On the embedded default the bundled simulator starts first, in the same process, and both FIX
sessions connect to it on loopback exactly as they would to a remote EMS and market-data server:
what the daemon sees of the market is the simulated market its orders fill against.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import attrs
import hypercorn.trio
import structlog
import trio

from sor_daemon import http_server
from sor_daemon.api.app import build_app
from sor_daemon.api.keys import KeyTable
from sor_daemon.api.observability import Observability
from sor_daemon.coinapi.account import EmsAccount
from sor_daemon.coinapi.ohlcv import OhlcvClient
from sor_daemon.coinapi.rest import CoinApiRest
from sor_daemon.config import Config, EmsConfig, MarketDataConfig, parse_listen
from sor_daemon.engine.clock import SystemClock
from sor_daemon.engine.engine import Engine
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.risk_gate import RiskGate
from sor_daemon.engine.runner import Services
from sor_daemon.fix.ems import EmsGateway
from sor_daemon.fix.market_data import MarketDataSession
from sor_daemon.fix.order_entry import OrderEntry
from sor_daemon.fix.parent_reports import ParentReporter
from sor_daemon.gc_policy import GrowthCollector
from sor_daemon.logs import register_secret
from sor_daemon.market.service import MarketData
from sor_daemon.ops.gateway_meter import MeteredGateway
from sor_daemon.ops.metrics import DaemonMetrics, FixSession
from sor_daemon.ops.reload import Reloader
from sor_daemon.ops.supervisor import Supervisor
from sor_daemon.sim.service import SimulatorHandle, serve_simulator
from sor_daemon.sim.settings import SimulatorSettings
from sor_daemon.store.halt import HaltFile
from sor_daemon.store.journal import Journal

log = structlog.get_logger(__name__)


@attrs.frozen
class DaemonHandle:
    """What a running daemon tells whoever started it."""

    api_url: str
    engine: Engine
    api_keys: KeyTable
    reloader: Reloader


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
        tls_cert=sim.tls_cert,
        tls_key=sim.tls_key,
        tls_client_ca=sim.tls_client_ca,
        instruments=config.instruments(),
        market=config.simulator_market(),
    )


async def run_daemon(
    config: Config,
    *,
    stop: trio.Event | None = None,
    reloader: Reloader | None = None,
    supervisor: Supervisor | None = None,
    collector: GrowthCollector | None = None,
    task_status: trio.TaskStatus[DaemonHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the daemon until ``stop`` is set (then stop in stages), or until cancelled.

    The stages nest as the layers do: the API stops accepting first, then the engine's runners
    stop, then the journal commits what is queued and the FIX sessions log out. ``reloader`` is
    where parts register what a SIGHUP may change (a private one by default); ``supervisor``
    tells systemd how the start goes (by default from the environment). ``collector``, the
    garbage collector the process installed (``sor-daemon run`` does), is run here and its
    pauses counted in the metrics.
    """
    reloader = reloader or Reloader(config)
    supervisor = supervisor or Supervisor.from_environment(config.service.startup_grace_period)
    supervisor.stage("starting")
    instruments = config.instruments()
    trading = config.trading_settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    metrics = DaemonMetrics()
    journal = Journal(
        config.data_dir / "journal.sqlite", observe_commit=metrics.journal_commit.observe
    )
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(supervisor.notifier.keep_alive)
            simulator = None
            if config.needs_simulator:
                simulator = await nursery.start(serve_simulator, simulator_settings(config))
            ems = ems_config(config, simulator)
            market_data = market_data_config(config, simulator)
            register_secret(market_data.api_key)
            register_secret(ems.api_key)
            await nursery.start(journal.run)
            gateway = EmsGateway(ems, config.data_dir)
            metered = MeteredGateway(gateway, gateway.news, metrics)
            session = MarketDataSession(market_data, config.data_dir)
            ohlcv = CoinApiRest(
                market_data.rest_url, market_data.api_key, key_setting="market_data.api_key"
            )
            clock = SystemClock()
            market = MarketData(session, OhlcvClient(ohlcv), clock, depth=market_data.depth)
            services = Services(
                journal=journal,
                gateway=metered,
                market=market,
                feed=Feed(config.api.feed_queue_size),
                clock=clock,
                settings=trading,
                risk=RiskGate(config.risk.limits(), clock),
            )
            outboxes = config.order_entry.outboxes()
            reporter = ParentReporter(config.order_entry.peers(), outboxes.send)
            services.observers.append(reporter)
            engine = Engine(
                services, instruments, metered.news, HaltFile(config.data_dir / "halt.json")
            )
            supervisor.stage("recovering the journal")
            async with trio.open_nursery() as starting:  # the sessions start as it replays
                starting.start_soon(engine.restore)
                await nursery.start(gateway.run)
                await nursery.start(session.run)
                await nursery.start(market.run)
            if collector is not None:
                collector.rebase()
                collector.observe_pause = metrics.observe_gc_pause
                nursery.start_soon(collector.run)
            async with trio.open_nursery() as trading:
                await trading.start(engine.run)
                clients = config.order_entry.client_sessions() if config.order_entry.port else {}
                fix_sessions: dict[str, FixSession] = {"ems": gateway, "market_data": session}
                fix_sessions |= {f"order_entry:{name}": c for name, c in clients.items()}
                metrics.read_state(engine, fix_sessions, services.feed)
                account = EmsAccount(CoinApiRest(ems.rest_url, ems.api_key))
                api_keys = KeyTable(config.api.api_keys(), required=config.api.auth_required)
                reloader.on_reload("api keys", functools.partial(reload_api_keys, api_keys))
                reloader.on_reload(
                    "risk limits",
                    functools.partial(reload_risk_limits, services.risk),
                    keys=("risk",),
                )
                observability = Observability(engine, session, journal, metrics, clients)
                app = build_app(engine, account, api_keys, config.api, observability)
                shutdown = stop.wait if stop is not None else trio.sleep_forever
                async with trio.open_nursery() as edge:
                    binds = await edge.start(
                        functools.partial(serve_api, app, config, shutdown_trigger=shutdown)
                    )
                    if config.order_entry.port:
                        order_entry = OrderEntry(
                            config.order_entry, config.data_dir, engine, reporter, outboxes
                        )
                        await edge.start(
                            functools.partial(order_entry.run, shutdown_trigger=shutdown)
                        )
                    log.info(
                        "sor-daemon listening",
                        api=binds,
                        ems=f"{ems.host}:{ems.port}",
                        ems_mode=ems.mode,
                        ems_rest=ems.rest_url,
                        market_data=f"{market_data.host}:{market_data.port}",
                        market_data_mode=market_data.mode,
                        fix_order_entry=config.order_entry.port or "off",
                        fix_order_entry_tls=config.order_entry.tls,
                        ohlcv_rest=market_data.rest_url,
                        data_dir=str(config.data_dir.resolve()),
                        api_keys=len(api_keys.keys)
                        if api_keys.required
                        else "none (open on loopback)",
                    )
                    nursery.start_soon(supervisor.ready_when_trading, engine)
                    task_status.started(
                        DaemonHandle(
                            api_url=binds[0], engine=engine, api_keys=api_keys, reloader=reloader
                        )
                    )
                log.info("API closed; stopping the algorithms")
                trading.cancel_scope.cancel()
            log.info("algorithms stopped; flushing the journal and logging out of FIX")
            nursery.cancel_scope.cancel()
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
    shutdown_trigger: Callable[[], Awaitable[None]] = trio.sleep_forever,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the API with hypercorn's Trio worker until ``shutdown_trigger`` returns (then close
    gracefully); reports the bound addresses once listening."""
    host, port = parse_listen(config.api.listen)
    server_config = http_server.server_config(host, port)
    server_config.websocket_ping_interval = 20
    server_config.graceful_timeout = 5
    if config.api.tls_cert is not None and config.api.tls_key is not None:
        server_config.certfile = str(config.api.tls_cert)
        server_config.keyfile = str(config.api.tls_key)
    await hypercorn.trio.serve(
        app,  # type: ignore[arg-type]
        server_config,
        shutdown_trigger=shutdown_trigger,
        task_status=task_status,
    )


def reload_risk_limits(gate: RiskGate, config: Config) -> str | None:
    """The SIGHUP hook for ``[risk]``: trade on the re-read limits from now on; what changed, or
    None. Raises ConfigError, leaving the limits as they were, when the new ones cannot be used."""
    limits = config.risk.limits()
    if limits == gate.limits:
        return None
    gate.update(limits)
    return "risk limits updated"


def reload_api_keys(keys: KeyTable, config: Config) -> str | None:
    """The SIGHUP hook for API keys: accept the re-read config's keys (its ``[[api.keys]]`` and
    its key file, read again) from now on; what changed, or None. Raises ConfigError, leaving the
    keys as they were, when the new ones cannot be used."""
    new = config.api.api_keys()
    if new == keys.keys and config.api.auth_required == keys.required:
        return None
    keys.replace(new, required=config.api.auth_required)
    return f"api keys: {len(new)} accepted" if keys.required else "api keys: none, the API is open"
