"""``sorctl``: the command line, from arguments to an exit status.

Exit statuses: 0 the command worked (or a followed order Completed), 3 Cancelled, 4 Failed,
5 Expired, 2 a usage or config error, 1 the daemon refused or could not be reached, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation

import trio

from sor_daemon.ctl import commands
from sor_daemon.ctl.client import DaemonError
from sor_daemon.ctl.settings import Server, SettingsError, resolve_server
from sor_daemon.ctl.tracking import EXIT_DAEMON_ERROR, EXIT_INTERRUPTED, EXIT_USAGE
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.periods import Period

Command = Callable[[Server, argparse.Namespace], Awaitable[int]]


def positive_amount(text: str) -> Decimal:
    """An argparse type: a positive decimal amount such as ``10`` or ``0.5``."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive amount")
    return value


def order_count(text: str) -> int:
    """An argparse type: a whole number of orders, 1 or more."""
    if not text.isascii() or not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of orders, 1 or more")
    return int(text)


def period(text: str) -> Period:
    """An argparse type: a period in CoinAPI's notation such as ``30SEC`` or ``5MIN``."""
    try:
        return Period.parse(text, "the period")
    except ProtocolError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def build_parser() -> argparse.ArgumentParser:
    """sorctl's arguments; ``--server`` and ``--api-key`` are accepted before or after the
    command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--server", default=argparse.SUPPRESS, help="the daemon, e.g. http://127.0.0.1:8080"
    )
    common.add_argument("--api-key", default=argparse.SUPPRESS, help="sent as a Bearer token")
    parser = argparse.ArgumentParser(
        prog="sorctl", description="Operate a sor-daemon.", parents=[common]
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="command")

    add = subcommands.add_parser("add", help="add a smart order")
    algorithms = add.add_subparsers(dest="algorithm_name", required=True, metavar="algorithm")
    for name in ("twap", "vwap"):
        algorithm = algorithms.add_parser(name, parents=[common], help=f"a {name.upper()} order")
        algorithm.set_defaults(run=commands.add, algorithm=name.upper())
        algorithm.add_argument("--symbol", required=True, help="e.g. BTC-USD")
        algorithm.add_argument("--type", required=True, help="symbol type, e.g. spot, perpetual")
        algorithm.add_argument("--side", required=True, choices=("buy", "sell"))
        algorithm.add_argument("--amount", required=True, type=positive_amount)
        algorithm.add_argument("--duration", required=True, type=period, help="e.g. 5MIN")
        algorithm.add_argument("--interval", required=True, type=period, help="e.g. 30SEC")
        algorithm.add_argument(
            "--exchange", required=True, action="append", help="a venue; repeat for more"
        )
        if name == "vwap":
            algorithm.add_argument("--safety-threshold", type=positive_amount)
        algorithm.add_argument(
            "--limit-price", type=positive_amount, help="no child trades beyond this price"
        )
        algorithm.add_argument("--wait", action="store_true", help="follow it until it ends")
        algorithm.add_argument("--json", action="store_true", help="print raw feed messages")

    cancel = subcommands.add_parser("cancel", parents=[common], help="cancel a smart order")
    cancel.set_defaults(run=commands.cancel)
    cancel.add_argument("id")

    update = subcommands.add_parser("update", parents=[common], help="change a smart order")
    update.set_defaults(run=commands.update)
    update.add_argument("id")
    update.add_argument("--amount", type=positive_amount)
    update.add_argument("--duration", type=period)
    update.add_argument("--interval", type=period)
    update.add_argument("--limit-price", type=positive_amount, help="set or move the limit")

    listing = subcommands.add_parser("list", parents=[common], help="every smart order")
    listing.set_defaults(run=commands.list_requests)
    listing.add_argument("--newest", type=order_count, help="only the newest this many orders")
    for kind in ("balances", "orders", "positions"):
        account = subcommands.add_parser(kind, parents=[common], help=f"the EMS account's {kind}")
        account.set_defaults(run=commands.show_account)

    watch = subcommands.add_parser("watch", parents=[common], help="follow the feed")
    watch.set_defaults(run=commands.watch)
    watch.add_argument("id", nargs="?", help="follow this order until it ends")
    watch.add_argument("--json", action="store_true", help="print raw feed messages")
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the command, and return sorctl's exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    changes = ("amount", "duration", "interval", "limit_price")
    if args.command == "update" and all(getattr(args, name) is None for name in changes):
        parser.error("update needs at least one of --amount, --duration, --interval, --limit-price")
    try:
        server = resolve_server(getattr(args, "server", None), getattr(args, "api_key", None))
    except SettingsError as error:
        print(f"sorctl: {error}", file=sys.stderr)
        return EXIT_USAGE
    command: Command = args.run
    try:
        return trio.run(command, server, args)
    except DaemonError as error:
        print(f"sorctl: {error}", file=sys.stderr)
        return EXIT_DAEMON_ERROR
    except KeyboardInterrupt:
        print("sorctl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def main() -> None:
    """The ``sorctl`` console script."""
    sys.exit(run())


if __name__ == "__main__":
    main()
