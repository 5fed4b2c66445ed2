"""sorctl end to end: the real daemon as a process, sorctl as a real subprocess against it.

One daemon serves the module. Every wait is bounded; nothing asserts how long anything took.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.processes import DaemonProcess, running_daemon

COMMAND_LIMIT_SECONDS = 60
SHORT_TWAP = ["--symbol", "BTC-USD", "--type", "perpetual", "--side", "buy", "--amount", "2"]
SHORT_TWAP += ["--duration", "4SEC", "--interval", "1SEC", "--exchange", "DERIBIT"]
LONG_TWAP = ["--symbol", "BTC-USD", "--type", "perpetual", "--side", "buy", "--amount", "10"]
LONG_TWAP += ["--duration", "5MIN", "--interval", "30SEC", "--exchange", "DERIBIT"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """One daemon on the embedded default for this module."""
    with running_daemon(tmp_path_factory.mktemp("sorctl-daemon")) as process:
        yield process


@pytest.fixture(scope="module")
def environment(daemon: DaemonProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """sorctl's environment: the daemon's address from a config file named by SORCTL_CONFIG."""
    config = tmp_path_factory.mktemp("sorctl") / "sorctl.toml"
    config.write_text(f'server = "{daemon.api_url}"\napi_key = "test-key"\n', encoding="utf-8")
    environ = {key: value for key, value in os.environ.items() if not key.startswith("SORCTL_")}
    return {**environ, "SORCTL_CONFIG": str(config)}


def sorctl_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sor_daemon.ctl.cli", *args]


def sorctl(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run sorctl to its end (bounded), capturing its output."""
    return subprocess.run(
        sorctl_command(*args),
        env=environment,
        capture_output=True,
        text=True,
        timeout=COMMAND_LIMIT_SECONDS,
        check=False,
    )


def add_order(environment: dict[str, str], arguments: list[str]) -> str:
    """Add a TWAP without waiting; its id, which sorctl prints alone on stdout."""
    result = sorctl(environment, "add", "twap", *arguments)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def wait_for_output(process: subprocess.Popen[str], limit: float) -> str:
    """The first line ``process`` writes on stderr, waiting at most ``limit`` seconds."""
    assert process.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        assert selector.select(timeout=limit), "sorctl watch showed nothing"
    return process.stderr.readline()


def test_add_with_wait_exits_zero_when_completed(environment: dict[str, str]) -> None:
    result = sorctl(environment, "add", "twap", *SHORT_TWAP, "--wait")

    assert result.returncode == 0, result.stderr
    assert "Completed" in result.stderr


def test_watch_exits_three_when_the_order_is_cancelled(environment: dict[str, str]) -> None:
    order_id = add_order(environment, LONG_TWAP)
    watch = subprocess.Popen(
        sorctl_command("watch", order_id), env=environment, stderr=subprocess.PIPE, text=True
    )
    try:
        assert wait_for_output(watch, COMMAND_LIMIT_SECONDS).startswith(f"following {order_id}")
        cancelled = sorctl(environment, "cancel", order_id)
        assert cancelled.returncode == 0, cancelled.stderr
        assert watch.wait(timeout=COMMAND_LIMIT_SECONDS) == 3
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()


def test_json_lines_end_with_completed(environment: dict[str, str]) -> None:
    result = sorctl(environment, "add", "twap", *SHORT_TWAP, "--wait", "--json")

    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert messages, "no feed message was printed"
    assert {message["Type"] for message in messages} <= {
        "StatusChange",
        "TradeRequest",
        "TradeFill",
    }
    assert len({message["CompositeId"] for message in messages}) == 1
    assert messages[-1]["Type"] == "StatusChange"
    assert messages[-1]["Data"]["Status"] == "Completed"


@pytest.mark.parametrize(
    "arguments",
    [
        ["add", "twap", "--symbol", "BTC-USD"],
        ["add", "twap", *SHORT_TWAP[:-4], "--duration", "4 minutes", *SHORT_TWAP[-4:]],
        ["add", "twap", *SHORT_TWAP[:6], "--amount", "-1", *SHORT_TWAP[8:]],
        ["update", "some-id"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_two_with_usage(
    environment: dict[str, str], arguments: list[str]
) -> None:
    result = sorctl(environment, *arguments)

    assert result.returncode == 2
    assert "usage: sorctl" in result.stderr
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_exchange_exits_one_with_the_daemons_sentence(
    environment: dict[str, str],
) -> None:
    arguments = [*SHORT_TWAP[:-1], "NOPE"]
    result = sorctl(environment, "add", "twap", *arguments, "--wait")

    assert result.returncode == 1
    assert "exchange 'NOPE' is unknown" in result.stderr
    assert "Traceback" not in result.stderr


def test_cancel_of_an_unknown_order_exits_one(environment: dict[str, str]) -> None:
    result = sorctl(environment, "cancel", "no-such-order")

    assert result.returncode == 1
    assert result.stderr.startswith("sorctl: ")
    assert "Traceback" not in result.stderr


def test_unreachable_daemon_exits_one(environment: dict[str, str]) -> None:
    result = sorctl(environment, "--server", "http://127.0.0.1:9", "list")

    assert result.returncode == 1
    assert "cannot reach the daemon" in result.stderr


def test_list_shows_the_added_orders_or_the_newest(environment: dict[str, str]) -> None:
    older, newer = add_order(environment, LONG_TWAP), add_order(environment, LONG_TWAP)
    try:
        every = sorctl(environment, "list")
        assert every.returncode == 0, every.stderr
        assert older in every.stdout and newer in every.stdout
        newest = sorctl(environment, "list", "--newest", "1")
        assert newest.returncode == 0, newest.stderr
        assert newer in newest.stdout and older not in newest.stdout
        refused = sorctl(environment, "list", "--newest", "0")
        assert refused.returncode == 2
        assert "not a whole number of orders" in refused.stderr
    finally:
        sorctl(environment, "cancel", older)
        sorctl(environment, "cancel", newer)


@pytest.mark.parametrize("kind", ["balances", "orders", "positions"])
def test_account_tables(environment: dict[str, str], kind: str) -> None:
    result = sorctl(environment, kind)

    assert result.returncode == 0, result.stderr
    assert kind in result.stdout


def test_a_vwap_too_small_for_the_market_expires_with_exit_five(
    environment: dict[str, str],
) -> None:
    # 1% of the one to four BTC a second the two venues trade is below the 0.1 minimum size
    arguments = ["--symbol", "BTC-USD", "--type", "perpetual", "--side", "buy", "--amount", "5"]
    arguments += ["--duration", "2SEC", "--interval", "1SEC", "--safety-threshold", "0.01"]
    arguments += ["--exchange", "DERIBIT", "--exchange", "BINANCE", "--wait"]
    result = sorctl(environment, "add", "vwap", *arguments)

    assert result.returncode == 5, result.stderr
    assert "0 of 5 filled" in result.stderr
