"""Secrets never reach the log; the level can change while the daemon runs.

The processors are exercised directly: configuring structlog globally here would leave cached
loggers writing to this test's captured stdout. The daemon's real output is checked in
``test_daemon_service.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sor_daemon import logs


@pytest.fixture
def level() -> Iterator[None]:
    before = logs.current_level()
    yield
    logs.set_level(before)


def test_fix_credentials_registered_secrets_and_key_fields_are_redacted() -> None:
    logs.register_secret("my-coinapi-key-123")
    message = "8=FIX.4.4|35=A|49=my-coinapi-key-123|56=COINAPI_V2|553=desk|554=hunter2|10=000|"
    event = logs.redact(
        None,
        "debug",
        {"event": "FIX message", "fix": message, "api_key": "k", "X-CoinAPI-Key": "abc"},
    )
    assert event["fix"] == "8=FIX.4.4|35=A|49=***|56=COINAPI_V2|553=***|554=***|10=000|"
    assert event["api_key"] == event["X-CoinAPI-Key"] == "***"
    assert "my-coinapi-key-123" not in json.dumps(event)


def test_soh_separated_messages_are_redacted_too() -> None:
    assert logs.redact_text("35=A\x01554=pw\x01") == "35=A\x01554=***\x01"


@pytest.mark.usefixtures("level")
def test_level_changes_at_run_time() -> None:
    logs.set_level("debug")
    assert logs.debug_enabled() and logs.current_level() == "debug"
    logs.set_level("warning")
    assert not logs.debug_enabled() and logs.current_level() == "warning"
