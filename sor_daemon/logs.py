"""structlog set-up: one JSON object per line, or a readable console format on a terminal.

Libraries that log through the standard library (hypercorn) go through the same renderer, so
every line of the daemon's output has the same shape.

The level can change while the daemon runs (``set_level``, on SIGHUP): it is kept in one gate
that every event passes first, rather than baked into cached loggers. Every event also passes
``redact`` before it is rendered, so FIX credentials (Username 553, Password 554, NewPassword
925, RawData 96), registered secrets (the market-data API key is also the FIX SenderCompID) and
key-like fields (``api_key``, ``password``, ``X-CoinAPI-Key``, ``authorization``) never reach
the output.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from sor_daemon.jsontext import compact_json

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_METHOD_LEVELS = LEVELS | {
    "warn": logging.WARNING,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}
REDACTED = "***"
SECRET_FIELDS = frozenset({"api_key", "password", "x-coinapi-key", "authorization"})
_SECRET_FIX_TAGS = re.compile(r"(^|[\x01|])(553|554|925|96)=[^\x01|]*")

EventDict = MutableMapping[str, Any]


class _LevelGate:
    """Drops events below the current level; the first processor, so dropping is cheap."""

    def __init__(self) -> None:
        self.level = logging.INFO

    def __call__(self, logger: object, method_name: str, event_dict: EventDict) -> EventDict:
        if _METHOD_LEVELS.get(method_name, logging.INFO) < self.level:
            raise structlog.DropEvent
        return event_dict


_gate = _LevelGate()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Never log ``value``: it is replaced by ``***`` wherever it appears in a log line."""
    if value:
        _secrets.add(value)


def redact_text(text: str) -> str:
    """``text`` with FIX credential fields and registered secrets replaced by ``***``."""
    if "=" in text:  # most lines have no FIX field at all: skip the pattern for them
        text = _SECRET_FIX_TAGS.sub(rf"\1\2={REDACTED}", text)
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


def redact(logger: object, method_name: str, event_dict: EventDict) -> EventDict:
    """The structlog processor that keeps secrets out of every log line."""
    for key, value in event_dict.items():
        if key.lower() in SECRET_FIELDS:
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


def debug_enabled() -> bool:
    """True when debug lines are logged (to skip building costly ones otherwise)."""
    return _gate.level <= logging.DEBUG


def current_level() -> str:
    """The level logged at now, by name."""
    return next(name for name, number in LEVELS.items() if number == _gate.level)


def set_level(level: str) -> None:
    """Log at ``level`` and above from now on (structlog and the standard library alike)."""
    _gate.level = LEVELS[level]
    logging.getLogger().setLevel(LEVELS[level])


def configure_logging(level: str = "info", *, console: bool | None = None) -> None:
    """Log at ``level`` and above to stdout; JSON unless stdout is a terminal."""
    if console is None:
        console = sys.stdout.isatty()
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if console
        else structlog.processors.JSONRenderer(serializer=compact_json)
    )
    shared: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                redact,
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
            foreign_pre_chain=shared,
        )
    )
    logging.getLogger().handlers = [handler]
    set_level(level)
    structlog.configure(
        processors=[
            _gate,
            structlog.contextvars.merge_contextvars,
            *shared,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        # Level filtering is the gate's job, so the level can change; this wrapper still gives
        # ``exception`` its traceback.
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
