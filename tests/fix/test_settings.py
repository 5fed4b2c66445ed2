"""quickfix settings files: what they hold, and that only their owner can read them."""

from __future__ import annotations

from pathlib import Path

from sor_daemon.fix.settings import write_settings


def test_the_settings_file_holds_each_block_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "session.cfg"
    path.write_text("stale", encoding="utf-8")
    path.chmod(0o644)

    write_settings(
        tmp_path,
        {"ConnectionType": "initiator", "ResetOnLogon": True},
        [{"BeginString": "FIX.4.4", "SenderCompID": "an-api-key", "TargetCompID": "COINAPI_V2"}],
    )

    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8").splitlines() == [
        "[DEFAULT]",
        "ConnectionType=initiator",
        "ResetOnLogon=Y",
        "",
        "[SESSION]",
        "BeginString=FIX.4.4",
        "SenderCompID=an-api-key",
        "TargetCompID=COINAPI_V2",
    ]
