"""structlog set-up: one JSON object per line, or a readable console format on a terminal.

Libraries that log through the standard library (hypercorn) go through the same renderer, so
every line of the daemon's output has the same shape.
"""

from __future__ import annotations

import logging
import sys

import structlog

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(level: str = "info", *, console: bool | None = None) -> None:
    """Log at ``level`` and above to stdout; JSON unless stdout is a terminal."""
    if console is None:
        console = sys.stdout.isatty()
    renderer = structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    shared: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared)
    )
    stdlib_root = logging.getLogger()
    stdlib_root.handlers = [handler]
    stdlib_root.setLevel(LEVELS[level])
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *shared,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
