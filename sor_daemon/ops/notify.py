"""The systemd notify protocol, spoken directly: one datagram per state to ``$NOTIFY_SOCKET``.

systemd gives a ``Type=notify`` service the path of a datagram socket (or an abstract one,
spelled with a leading ``@``) and reads ``KEY=value`` lines from it: ``READY=1`` when the
service is up, ``STATUS=`` lines for ``systemctl status``, ``WATCHDOG=1`` pings at least every
``$WATCHDOG_USEC`` microseconds, ``STOPPING=1`` when it shuts down. Outside systemd
(``NOTIFY_SOCKET`` unset) every call is a no-op, so the daemon runs the same way from a shell.
A notification that cannot be delivered at once is logged and dropped, never raised nor waited
for: systemd being gone or slow must not take the daemon down or stall it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import timedelta

import structlog
import trio

log = structlog.get_logger(__name__)


class Notifier:
    """Sends notify datagrams to one socket address, or nothing when there is none."""

    def __init__(self, address: str | None, watchdog: timedelta | None = None) -> None:
        """``address`` as in ``$NOTIFY_SOCKET``; ``watchdog`` is systemd's watchdog timeout."""
        self._address = "\0" + address[1:] if address and address.startswith("@") else address
        self.watchdog_timeout = watchdog if address else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier systemd asked for through ``NOTIFY_SOCKET`` and ``WATCHDOG_USEC``.

        The watchdog is only ours when ``WATCHDOG_PID`` is unset or names this process.
        """
        env = os.environ if environ is None else environ
        watchdog = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            watchdog = timedelta(microseconds=int(usec))
        return cls(env.get("NOTIFY_SOCKET") or None, watchdog)

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a notify socket."""
        return self._address is not None

    def notify(self, **fields: str) -> None:
        """Send ``KEY=value`` lines in one datagram (``notify(READY="1", STATUS="...")``)."""
        if self._address is None:
            return
        text = "".join(f"{key}={value}\n" for key, value in fields.items())
        try:
            # Non-blocking: a service manager that stopped reading must never stall the loop.
            kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
            with socket.socket(socket.AF_UNIX, kind) as sock:
                sock.sendto(text.encode(), self._address)
        except OSError as error:
            log.warning("systemd notification not delivered", fields=list(fields), error=str(error))

    def status(self, text: str) -> None:
        """A short human state line for ``systemctl status``."""
        log.info("service status", status=text)
        self.notify(STATUS=text)

    def ready(self, status: str) -> None:
        """The service is up; ``status`` says in what state."""
        log.info("service ready", status=status)
        self.notify(READY="1", STATUS=status)

    def stopping(self) -> None:
        """The service is shutting down."""
        log.info("service stopping")
        self.notify(STOPPING="1", STATUS="stopping")

    async def keep_alive(self) -> None:
        """Ping the watchdog from the Trio loop at half its timeout, until cancelled.

        Pinging from the loop itself is the point: a wedged loop stops the pings and systemd
        restarts the service. Returns at once when there is no watchdog.
        """
        if self.watchdog_timeout is None:
            return
        interval = self.watchdog_timeout.total_seconds() / 2
        while True:
            self.notify(WATCHDOG="1")
            await trio.sleep(interval)
