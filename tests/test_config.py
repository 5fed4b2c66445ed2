"""The TOML config and the command line: the example loads, mistakes are named, not obeyed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sor_daemon.cli import main
from sor_daemon.config import Config, ConfigError, config_from_dict, load_config

EXAMPLE = Path(__file__).parent.parent / "sor-daemon.example.toml"


def test_the_shipped_example_is_the_embedded_default_spelled_out() -> None:
    assert load_config(EXAMPLE) == Config()
    assert load_config(None) == Config()


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"api": {"listen": "localhost"}}, "api.listen"),
        ({"api": {"bogus": 1}}, "bogus"),
        ({"ems": {"mode": "cloud"}}, "config.ems.mode"),
        ({"trading": {"price_tolerance_bps": "-1"}}, "price_tolerance_bps"),
        ({"trading": {"session_down_grace": "5XYZ"}}, "session_down_grace"),
        ({"trading": {"max_consecutive_rejects": 0}}, "max_consecutive_rejects"),
        ({"trading": {"slice_lead_ms": 501}}, "trading.slice_lead_ms 501 must be from 0 to 500"),
        ({"trading": {"slice_lead_ms": -1}}, "trading.slice_lead_ms -1"),
        ({"trading": {"slice_lead_ms": "50MS"}}, "trading.slice_lead_ms"),
        ({"market_data": {"max_age": "soon"}}, "market_data.max_age"),
        ({"market_data": {"mode": "remote"}}, "market_data.api_key is required"),
        ({"market_data": {"depth": 0}}, "market_data.depth"),
        ({"vwap": {"default_safety_threshold": "1.5"}}, "vwap.default_safety_threshold"),
        ({"order_entry": {"port": 9878}}, "order_entry.sessions"),
        ({"order_entry": {"port": 70000}}, "order_entry.port"),
        (
            {
                "order_entry": {
                    "sessions": [
                        {"sender_comp_id": "SOR", "target_comp_id": "A"},
                        {"sender_comp_id": "SOR", "target_comp_id": "A"},
                    ]
                }
            },
            "twice",
        ),
    ],
)
def test_a_bad_config_is_refused_with_the_key_named(document: dict, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        config_from_dict(document)


def test_never_means_wait_for_the_ems_forever() -> None:
    config = config_from_dict({"trading": {"session_down_grace": "never"}})
    assert config.trading_settings().session_down_grace is None


def test_a_broken_instrument_table_is_named(tmp_path: Path) -> None:
    table = tmp_path / "instruments.toml"
    table.write_text('[[instrument]]\nexchange = "X"\n')
    config = config_from_dict({"instruments_file": str(table)})
    with pytest.raises(ConfigError, match="instruments_file: instrument #1 lacks"):
        config.instruments()


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["run", "--listen", "nope"], "listen address 'nope' is not HOST:PORT"),
        (["run", "--config", "/no/such/file.toml"], "cannot be read"),
        (["launch"], "invalid choice"),
    ],
)
def test_bad_command_lines_exit_2_with_a_sentence(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err
