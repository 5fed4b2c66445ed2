"""The ``sor-daemon`` command: ``run`` the daemon, or run the ``ems-sim`` alone."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import attrs
import structlog
import trio

# quickfix (imported through the service) resets SIGINT to the default handler on import; it is
# imported here, before trio.run, so that Trio's signal receiver owns SIGINT and SIGTERM.
from sor_daemon import failpoints
from sor_daemon.config import Config, ConfigError, load_config, parse_listen
from sor_daemon.logs import configure_logging
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
    sim.add_argument("--fix-port", type=int, help="FIX acceptor port (default 3401)")
    sim.add_argument("--http-port", type=int, help="HTTP port (default 3402)")
    sim.add_argument("--md-port", type=int, help="market-data FIX acceptor port (default 3403)")
    sim.add_argument("--seed", type=int, help="seed of the price process")
    sim.add_argument(
        "--lean-reports", action="store_true", help="leave LastQty, LastPx and AvgPx out"
    )
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
        )
        config = attrs.evolve(config, simulator=sim)
    return config


async def _until_signalled(main: Callable[..., Awaitable[None]], *args: object) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(main, *args)
            async for signum in signals:
                log.info("stopping", signal=signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break


async def _run_simulator(config: Config) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_simulator, simulator_settings(config))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sor-daemon`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = apply_arguments(load_config(args.config), args)
        config.check()
        config.instruments()
    except ConfigError as error:
        parser.exit(2, f"sor-daemon: {error}\n")
    configure_logging(config.log_level)
    failpoints.arm_from_environment()
    main_task = run_daemon if args.command == "run" else _run_simulator
    try:
        trio.run(_until_signalled, main_task, config)
    except OSError as error:
        print(f"sor-daemon: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
