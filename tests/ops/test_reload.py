"""The reload hook registry: every part gets the new configuration, a failing one is logged."""

from __future__ import annotations

import attrs

from sor_daemon.config import Config
from sor_daemon.ops.reload import Reloader


def test_hooks_get_the_new_config_and_a_failure_does_not_stop_the_others() -> None:
    reloader = Reloader(Config())
    seen: list[str] = []

    def broken(config: Config) -> str | None:
        raise ValueError("cannot")

    reloader.on_reload("broken", broken)
    reloader.on_reload("level", lambda c: seen.append(c.log_level) or "log_level debug")
    reloader.on_reload("quiet", lambda c: None, keys=("log_level",))
    new = attrs.evolve(Config(), log_level="debug")
    assert reloader.apply(new) == ["log_level debug"]
    assert seen == ["debug"]
    assert reloader.config is new
