"""The ``sor-daemon`` command: ``run`` the daemon, or run the ``ems-sim`` alone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import attrs
import structlog
import trio

# quickfix (imported through the service) resets SIGINT to the default handler on import; it is
# imported here, before trio.run, so that Trio's signal receiver owns SIGINT and SIGTERM.
from sor_daemon import failpoints
from sor_daemon.api.keys import Role, key_entry, new_key
from sor_daemon.config import Config, ConfigError, load_config, parse_listen
from sor_daemon.gc_policy import FreezingCollector, GrowthCollector
from sor_daemon.interpreter import tune_for_latency
from sor_daemon.logs import configure_logging, current_level, set_level
from sor_daemon.ops.reload import Reloader
from sor_daemon.ops.signals import serve_until_stopped
from sor_daemon.ops.supervisor import Supervisor
from sor_daemon.service import run_daemon, simulator_settings
from sor_daemon.sim.service import serve_simulator

log = structlog.get_logger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="sor-daemon", description="A smart order router in front of a FIX 4.4 EMS."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the daemon (embedded simulator by default)")
    sim = commands.add_parser("ems-sim", help="run the bundled EMS and market simulator alone")
    for command in (run, sim):
        command.add_argument("--config", type=Path, help="TOML config file")
        command.add_argument("--data-dir", type=Path, help="where state is kept (default ./data)")
        command.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    run.add_argument("--listen", metavar="HOST:PORT", help="API address (default 127.0.0.1:8080)")
    hash_key = commands.add_parser(
        "hash-key", help="make an API key and the [[api.keys]] table to put in the config"
    )
    hash_key.add_argument("--name", default="desk-1", help="the key's name (default desk-1)")
    hash_key.add_argument(
        "--role", choices=[role.label for role in Role], default="trader", help="default trader"
    )
    hash_key.add_argument(
        "--stdin", action="store_true", help="hash the key read from stdin instead of a new one"
    )
    sim.add_argument("--fix-port", type=int, help="FIX acceptor port (default 3401)")
    sim.add_argument("--http-port", type=int, help="HTTP port (default 3402)")
    sim.add_argument("--md-port", type=int, help="market-data FIX acceptor port (default 3403)")
    sim.add_argument("--seed", type=int, help="seed of the price process")
    sim.add_argument(
        "--lean-reports", action="store_true", help="leave LastQty, LastPx and AvgPx out"
    )
    sim.add_argument("--tls-cert", type=Path, help="EMS session over TLS: server certificate")
    sim.add_argument("--tls-key", type=Path, help="the server certificate's private key")
    sim.add_argument("--tls-client-ca", type=Path, help="CA that client certificates must chain to")
    return parser


def apply_arguments(config: Config, args: argparse.Namespace) -> Config:
    """The configuration with the command line's overrides applied."""
    if args.data_dir is not None:
        config = attrs.evolve(config, data_dir=args.data_dir)
    if args.log_level is not None:
        config = attrs.evolve(config, log_level=args.log_level)
    if getattr(args, "listen", None) is not None:
        parse_listen(args.listen)
        config = attrs.evolve(config, api=attrs.evolve(config.api, listen=args.listen))
    if args.command == "ems-sim":
        sim = config.simulator
        sim = attrs.evolve(
            sim,
            fix_port=args.fix_port if args.fix_port is not None else sim.fix_port or 3401,
            http_port=args.http_port if args.http_port is not None else sim.http_port or 3402,
            md_port=args.md_port if args.md_port is not None else sim.md_port or 3403,
            seed=args.seed if args.seed is not None else sim.seed,
            lean_reports=args.lean_reports or sim.lean_reports,
            tls_cert=args.tls_cert if args.tls_cert is not None else sim.tls_cert,
            tls_key=args.tls_key if args.tls_key is not None else sim.tls_key,
            tls_client_ca=args.tls_client_ca
            if args.tls_client_ca is not None
            else sim.tls_client_ca,
        )
        config = attrs.evolve(config, simulator=sim)
    return config


def _reload(args: argparse.Namespace, reloader: Reloader) -> None:
    """SIGHUP: re-read the config file (command-line overrides still win) and apply it; a file
    that cannot be used is logged and the running configuration kept."""
    log.info("reloading the configuration", config=str(args.config) if args.config else None)
    try:
        config = apply_arguments(load_config(args.config), args)
        config.check()
    except ConfigError as error:
        log.error("config reload refused, keeping the running configuration", error=str(error))
        return
    reloader.apply(config)


def _reload_log_level(config: Config) -> str | None:
    """The reload hook for the log level; what it changed, or None."""
    if config.log_level == current_level():
        return None
    set_level(config.log_level)
    return f"log_level {config.log_level}"


async def _run_daemon(
    config: Config,
    reloader: Reloader,
    supervisor: Supervisor,
    collector: GrowthCollector,
    stop: trio.Event,
) -> None:
    await run_daemon(
        config, stop=stop, reloader=reloader, supervisor=supervisor, collector=collector
    )


async def _run_simulator(config: Config, stop: trio.Event) -> None:
    async with trio.open_nursery() as nursery:
        simulator = await nursery.start(serve_simulator, simulator_settings(config))
        await stop.wait()
        simulator.stop()


def _hash_key(args: argparse.Namespace) -> int:
    """Print the config table for a key: a new random one (printed too, once), or stdin's."""
    if args.stdin:
        key = sys.stdin.readline().strip()
        if not key:
            print("sor-daemon: no key on stdin", file=sys.stderr)
            return 2
    else:
        key = new_key()
        print(f"# the key, for the client only (the daemon keeps just its hash): {key}")
    print(key_entry(args.name, args.role, key), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sor-daemon`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "hash-key":
        return _hash_key(args)
    try:
        config = apply_arguments(load_config(args.config), args)
        config.check()
        config.instruments()
    except ConfigError as error:
        parser.exit(2, f"sor-daemon: {error}\n")
    configure_logging(config.log_level)
    failpoints.arm_from_environment()
    reloader = Reloader(config)
    reloader.on_reload("log level", _reload_log_level, keys=("log_level",))
    supervisor = Supervisor.from_environment(config.service.startup_grace_period)
    tune_for_latency()
    if args.command == "run":
        collector = GrowthCollector()
        collector.install()
        main_task = partial(_run_daemon, config, reloader, supervisor, collector)
    else:
        FreezingCollector().install()  # the simulator keeps its order history: see gc_policy
        main_task = partial(_run_simulator, config)
    try:
        trio.run(
            partial(
                serve_until_stopped,
                main_task,
                reload=partial(_reload, args, reloader),
                stopping=supervisor.notifier.stopping,
                stop_timeout=config.service.stop_timeout_period,
            )
        )
    except OSError as error:
        print(f"sor-daemon: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
