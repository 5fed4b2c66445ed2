"""Signals: SIGTERM and SIGINT stop the daemon gracefully within a bound, SIGHUP reloads.

A stop is asked of ``main`` through an event, and it stops in stages: the API stops accepting,
then the algorithms stop at their next checkpoint, then the journal writer commits what was
queued and both FIX sessions log out. Running orders are not touched: the journal has them, and
the next start resumes them. A second SIGTERM or SIGINT cancels whatever is left at once.
If all that takes longer than ``stop_timeout`` (a FIX peer that never answers the logout, a
wedged disk), a timer thread ends the process; nothing is lost by it, because everything
acknowledged is already committed with ``synchronous=FULL``.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
import trio

log = structlog.get_logger(__name__)

EXIT_STOP_TIMEOUT = 1


async def serve_until_stopped(
    main: Callable[[trio.Event], Awaitable[None]],
    *,
    reload: Callable[[], None],
    stopping: Callable[[], None],
    stop_timeout: timedelta,
) -> None:
    """Run ``main(stop)`` until it returns; SIGTERM or SIGINT set ``stop``, SIGHUP calls
    ``reload``.

    ``stopping`` is called as soon as a stop is asked for (to tell systemd).
    """
    stop = trio.Event()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        async with trio.open_nursery() as nursery:

            async def run_main() -> None:
                await main(stop)
                nursery.cancel_scope.cancel()

            nursery.start_soon(run_main)
            async for signum in signals:
                if signum == signal.SIGHUP:
                    reload()
                    continue
                name = signal.Signals(signum).name
                if stop.is_set():
                    log.warning("stopping now", signal=name)
                    nursery.cancel_scope.cancel()
                    break
                log.info("stopping", signal=name)
                stopping()
                _exit_after(stop_timeout)
                stop.set()


def _exit_after(timeout: timedelta) -> None:
    """End the process from a timer thread if the graceful stop is not over in ``timeout``."""

    def give_up() -> None:
        log.error(
            "graceful stop took too long, exiting now; running orders resume on the next start",
            stop_timeout_seconds=timeout.total_seconds(),
        )
        os._exit(EXIT_STOP_TIMEOUT)

    timer = threading.Timer(timeout.total_seconds(), give_up)
    timer.daemon = True
    timer.start()
