"""Run-time reload: what a SIGHUP applies from a re-read configuration, and who applies it.

Parts of the daemon that can take new settings without a restart register a hook with
``Reloader.on_reload``. On SIGHUP the command line re-reads the config file; a file that cannot
be used is logged and ignored (the daemon keeps the configuration it runs with), a good one is
handed to every hook in registration order. Each hook applies its part and returns a short
description of what it changed (or None when nothing did); the reload is logged with those
descriptions and with the top-level settings that changed but only take effect on a restart.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import structlog

from sor_daemon.config import Config

log = structlog.get_logger(__name__)

ReloadHook = Callable[[Config], str | None]


class Reloader:
    """The registry of reload hooks and the configuration last applied."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._hooks: list[tuple[str, ReloadHook]] = []
        self._reloadable: set[str] = set()

    def on_reload(self, name: str, hook: ReloadHook, *, keys: tuple[str, ...] = ()) -> None:
        """Call ``hook`` with every new configuration; ``keys`` are the top-level ``Config``
        fields it applies (so their change is not reported as needing a restart)."""
        self._hooks.append((name, hook))
        self._reloadable.update(keys)

    def apply(self, config: Config) -> list[str]:
        """Hand ``config`` to every hook; what they applied, as logged.

        A hook that fails is logged and the others still run: one part's trouble must not keep
        the others on stale settings.
        """
        applied = []
        for name, hook in self._hooks:
            try:
                change = hook(config)
            except Exception as error:
                log.error("config reload failed in one part", part=name, error=str(error))
                continue
            if change:
                applied.append(change)
        restart = [
            field.name
            for field in attrs.fields(Config)
            if field.name not in self._reloadable
            and getattr(config, field.name) != getattr(self.config, field.name)
        ]
        self.config = config
        log.info("config reloaded", applied=applied, needs_restart=restart)
        return applied
