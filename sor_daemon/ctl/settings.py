"""Where the daemon is and which API key to send: flags, then environment, then a TOML file.

Operators run sorctl against one daemon most of the time, so the address and key can live in
``~/.config/sorctl.toml`` (or the file ``SORCTL_CONFIG`` names) and be overridden per shell by
``SORCTL_SERVER`` / ``SORCTL_API_KEY`` or per call by ``--server`` / ``--api-key``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_CONFIG = Path("~/.config/sorctl.toml")


class SettingsError(Exception):
    """The config file cannot be used; ``str()`` says why, as a sentence."""


@dataclass(frozen=True)
class Server:
    """A daemon's base address (``http://host:port``) and the API key to present, if any."""

    url: str
    api_key: str | None

    @property
    def rest_url(self) -> str:
        """The base of the SOR's REST endpoints."""
        return f"{self.url}/v1/sor"

    @property
    def ws_url(self) -> str:
        """The WebSocket feed, on the same host and port as REST."""
        scheme, _, rest = self.url.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/v1/sor/ws"

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <key>`` when a key is set, on REST and the feed alike."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


def resolve_server(
    server_flag: str | None, api_key_flag: str | None, environ: Mapping[str, str] = os.environ
) -> Server:
    """The Server from flags, else the environment, else the config file, else the default."""
    file = _read_config(environ)
    url = server_flag or environ.get("SORCTL_SERVER") or file.get("server") or DEFAULT_SERVER
    api_key = api_key_flag or environ.get("SORCTL_API_KEY") or file.get("api_key")
    if "://" not in url:
        url = f"http://{url}"
    return Server(url=url.rstrip("/"), api_key=api_key or None)


def _read_config(environ: Mapping[str, str]) -> dict[str, str]:
    """The config file's ``server`` and ``api_key``; a missing default file is no config.

    A file named by ``SORCTL_CONFIG`` must exist: a typo there should not silently fall back.
    """
    named = environ.get("SORCTL_CONFIG")
    path = Path(named).expanduser() if named else DEFAULT_CONFIG.expanduser()
    if not path.exists():
        if named:
            raise SettingsError(f"the config file {path} (from SORCTL_CONFIG) does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"the config file {path} cannot be read: {error}") from None
    unknown = set(data) - {"server", "api_key"}
    if unknown:
        raise SettingsError(
            f"the config file {path} has unknown keys: {', '.join(sorted(unknown))} "
            "(only server and api_key are read)"
        )
    for key, value in data.items():
        if not isinstance(value, str):
            raise SettingsError(f"{key} in the config file {path} must be a string")
    return data
