"""sorctl's ``--limit-price``: on ``add`` it becomes the order's ``limit_price``, on ``update`` it
counts as a change; a price that is not positive is a usage error. No daemon needed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from sor_daemon.ctl.cli import build_parser, run
from sor_daemon.ctl.commands import new_message
from sor_daemon.protocol.codec import parse_ws_message

TWAP = ["add", "twap", "--symbol", "BTC-USD", "--type", "perpetual", "--side", "buy"]
TWAP += ["--amount", "2", "--duration", "1MIN", "--interval", "10SEC", "--exchange", "DERIBIT"]


def test_add_sends_the_limit_price_as_a_parameter_the_daemon_reads() -> None:
    args = build_parser().parse_args([*TWAP, "--limit-price", "66000.5"])
    message = new_message("an-id", args)
    assert message["parameters"]["limit_price"] == "66000.5"
    parsed = parse_ws_message(json.dumps(message))
    assert parsed.parameters.limit_price == Decimal("66000.5")  # type: ignore[union-attr]


def test_add_without_a_limit_sends_none() -> None:
    assert "limit_price" not in new_message("an-id", build_parser().parse_args(TWAP))["parameters"]


def test_update_takes_a_limit_price_alone() -> None:
    args = build_parser().parse_args(["update", "an-id", "--limit-price", "65000"])
    assert (args.limit_price, args.amount) == (Decimal(65000), None)


@pytest.mark.parametrize("argv", [[*TWAP, "--limit-price", "0"], ["update", "an-id"]])
def test_a_bad_or_missing_limit_is_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(argv)
    assert exited.value.code == 2
    assert "limit" in capsys.readouterr().err
