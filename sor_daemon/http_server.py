"""The hypercorn settings every HTTP server of ours shares (the API and the simulator's)."""

from __future__ import annotations

import logging

from hypercorn.config import Config


def server_config(host: str, port: int) -> Config:
    """Bind ``host:port`` (IPv6 hosts bracketed), no access log, errors through structlog."""
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config
