"""The daemon's life as systemd sees it: a STATUS line per stage, READY once it can trade (or
once the startup grace is over), a status that follows the running orders, watchdog pings.

READY=1 waits for the EMS session because a service manager that orders other units after this
one, or an operator watching ``systemctl start``, should learn that orders can flow. An EMS
that does not log on within ``startup_grace`` does not keep the service "activating" forever:
it is declared ready anyway, its status line and ``GET /health`` saying the EMS is down.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
import trio

from sor_daemon.engine.engine import Engine
from sor_daemon.ops.metrics import is_halted
from sor_daemon.ops.notify import Notifier

log = structlog.get_logger(__name__)

STATUS_REFRESH_SECONDS = 5.0


def running_status(engine: Engine) -> str:
    """``ready: N running orders``, with what is wrong appended."""
    running = sum(1 for order in engine.live_orders() if not order.status.terminal)
    text = f"ready: {running} running order{'' if running == 1 else 's'}"
    if not engine.services.gateway.is_up:
        text += ", EMS session down"
    if is_halted(engine):
        text += ", halted"
    return text


class Supervisor:
    """Tells the service manager where the daemon stands."""

    def __init__(self, notifier: Notifier, startup_grace: timedelta) -> None:
        self.notifier = notifier
        self._startup_grace = startup_grace

    @classmethod
    def from_environment(cls, startup_grace: timedelta) -> Supervisor:
        """A supervisor speaking to systemd when it runs under it, silent otherwise."""
        return cls(Notifier.from_environment(), startup_grace)

    def stage(self, text: str) -> None:
        """A startup or shutdown stage, as a STATUS line."""
        self.notifier.status(text)

    async def ready_when_trading(self, engine: Engine) -> None:
        """Wait for the EMS session (at most the startup grace), send READY=1, then keep the
        status line current until cancelled."""
        self.stage("waiting for the EMS session")
        with trio.move_on_after(self._startup_grace.total_seconds()):
            while not engine.services.gateway.is_up:
                await trio.sleep(0.05)
        if not engine.services.gateway.is_up:
            log.warning(
                "EMS session not logged on within the startup grace; ready without it",
                startup_grace_seconds=self._startup_grace.total_seconds(),
            )
        status = running_status(engine)
        self.notifier.ready(status)
        if not self.notifier.enabled:
            return
        while True:
            await trio.sleep(STATUS_REFRESH_SECONDS)
            if running_status(engine) != status:
                status = running_status(engine)
                self.notifier.notify(STATUS=status)
