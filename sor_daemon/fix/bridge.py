"""The quickfix ``Application`` that hands what a session hears to Trio, and never blocks it.

quickfix calls back on its own C++ threads, with borrowed ``Message`` and ``SessionID`` objects
that die when the callback returns, and kills the process if a Python exception escapes most
callbacks. So an application message is copied out as its raw text right there and handed to
Trio with ``run_sync_soon`` (never waiting on the Trio thread: quickfix holds its session lock
around these calls, and a Trio task may be waiting for that lock inside ``sendToTarget``); any
exception is logged instead of escaping.

The message is parsed and translated on the Trio thread, not in the callback. Every quickfix
call gives up Python's GIL and takes it back, and a thread taking the GIL back from a busy Trio
thread waits up to the interpreter's switch interval: a callback reading twenty fields could
wait twenty times. Under load that starved the reading thread until the peer's writes blocked
and the session stalled (the fill-latency benchmark found it). Copying the text is one call.

For the same reason the callbacks do not call ``run_sync_soon`` once a message: it writes a byte
to Trio's wake-up socket, a system call that gives up the GIL too. What the callbacks hand over
waits in a queue of the bridge's own, in order, and Trio is woken once for all that arrives
before it drains the queue. A thread that writes to the wake-up socket while the Trio thread is
busy hardly gets the GIL back: the Trio thread lets go of it only for short system calls of its
own (a poll on every turn of its scheduler) and takes it straight back, and CPython restarts a
waiting thread's switch interval whenever the GIL changed hands meanwhile, so the hand-over
that interval would force never comes. In a bare Trio program whose one task kept the thread
busy, a thread handing over 3,000 values a second this way got 22 to 70 through; queued and
woken once per batch, 1,400 to 3,000.

``running_initiator`` starts and stops a quickfix initiator around the Trio code that reads it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import quickfix as fix
import structlog
import trio

from sor_daemon.logs import debug_enabled

log = structlog.get_logger(__name__)


class TrioBridge(fix.Application):
    """Hands logon, logout and translated application messages to ``deliver``, on the Trio
    thread (a channel's ``send_nowait``, or a ``Relay``'s ``publish`` to act on them at once).

    ``translate`` turns an inbound application message into a value for Trio (or None to drop
    it); it runs on the Trio thread, on the message ``read`` makes of the text, and must not
    keep the message. The hot sessions read the text in Python (``dialect.FlatFields``,
    ``md_dialect.MarketDataFields``); the order-entry session, whose messages are few and have
    groups of every shape, uses quickfix's parse with its dictionary (``read_with_dictionary``).
    """

    def __init__(
        self,
        name: str,
        token: trio.lowlevel.TrioToken,
        deliver: Callable[[Any], None],
        translate: Callable[[fix.Message], object | None],
        on_logon: Callable[[], object],
        on_logout: Callable[[], object],
        read: Callable[[str], Any],
    ) -> None:
        super().__init__()
        self._read = read
        self._name = name
        self._token = token
        self._deliver_value = deliver
        self._translate = translate
        self._on_logon = on_logon
        self._on_logout = on_logout
        self._arrived: deque[tuple[Callable[[Any], None], object]] = deque()
        self._drain_due = False
        """True from waking Trio to drain ``_arrived`` until that drain starts."""

    def _deliver(self, value: object) -> None:
        """Queue ``value`` for Trio; safe from any thread, never raises."""
        self._call_soon(self._hand_on, value)

    def _call_soon(self, function: Callable[[Any], None], argument: object) -> None:
        """Run ``function(argument)`` on the Trio thread soon, after everything queued before
        it; safe from any thread, never raises.

        Trio is woken only when no drain is due yet. A drain clears the flag before it takes
        the first call, so a call queued after the drain emptied the queue always finds the
        flag clear, and wakes Trio again."""
        self._arrived.append((function, argument))
        if self._drain_due:
            return
        self._drain_due = True
        try:
            self._token.run_sync_soon(self._drain)
        except trio.RunFinishedError:
            self._drain_due = False
            self._arrived.clear()
            log.warning("FIX event after the Trio run ended", session=self._name)
        except Exception:
            self._drain_due = False
            log.exception("FIX event could not be handed to Trio", session=self._name)

    def _drain(self) -> None:
        """On the Trio thread: run every call queued so far, in order. Calls queued meanwhile
        woke Trio again, and wait for that turn, so other tasks are not held up by a flood."""
        self._drain_due = False
        arrived = self._arrived
        for _ in range(len(arrived)):
            function, argument = arrived.popleft()
            function(argument)

    def _hand_on(self, value: object) -> None:
        try:
            self._deliver_value(value)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            log.debug("FIX event after its consumer closed", session=self._name)
        except Exception:
            log.exception("FIX event dropped", session=self._name)

    def onCreate(self, sessionID: fix.SessionID) -> None:
        """quickfix made the session."""

    def onLogon(self, sessionID: fix.SessionID) -> None:
        """The session logged on."""
        try:
            log.info("FIX session logged on", session=self._name)
            self._deliver(self._on_logon())
        except Exception:
            log.exception("onLogon failed", session=self._name)

    def onLogout(self, sessionID: fix.SessionID) -> None:
        """The session logged out or lost its connection."""
        try:
            log.info("FIX session logged out", session=self._name)
            self._deliver(self._on_logout())
        except Exception:
            log.exception("onLogout failed", session=self._name)

    def _trace(self, direction: str, message: fix.Message | str) -> None:
        """Log a message at debug level (credentials redacted by the log); never raises."""
        if not debug_enabled():
            return
        try:
            text = message if isinstance(message, str) else message.toString()
            log.debug("FIX message", session=self._name, direction=direction, fix=shown(text))
        except Exception:
            log.exception("FIX message could not be logged", session=self._name)

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Administrative messages go out as quickfix builds them."""
        self._trace("out", message)

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Administrative messages need nothing from us."""
        self._trace("in", message)

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Application messages go out as the session's owner built them."""
        self._trace("out", message)

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Hand an application message's text to Trio, to be translated there."""
        try:
            text = message.toString()
        except Exception:
            log.exception("inbound FIX message could not be copied", session=self._name)
            return
        self._call_soon(self._translate_and_send, text)

    def _translate_and_send(self, text: str) -> None:
        """On the Trio thread: read and translate a message, and hand on what it means."""
        self._trace("in", text)
        try:
            value = self._translate(self._read(text))
        except Exception:
            log.exception(
                "inbound FIX message could not be read", session=self._name, message=shown(text)
            )
            return
        if value is not None:
            self._hand_on(value)


def read_with_dictionary(dictionary: Path) -> Callable[[str], fix.Message]:
    """A reader for ``TrioBridge``: quickfix's parse of a message's text with the data
    dictionary at ``dictionary`` (which knows the repeating groups)."""
    parsed_dictionary = fix.DataDictionary(str(dictionary))

    def read(text: str) -> fix.Message:
        return fix.Message(text, parsed_dictionary, False)

    return read


@asynccontextmanager
async def running_initiator(
    name: str,
    make: Callable[[], fix.Initiator | fix.Acceptor],
    *,
    stopped: Callable[[], object] = lambda: None,
) -> AsyncIterator[None]:
    """Start the initiator (or acceptor) ``make`` builds, and on leaving (cancelled or not) stop
    it, call ``stopped`` (off the Trio thread: its sessions still exist, none connected), and
    free it.

    ``start`` and ``stop`` block (``stop`` logs out, then waits up to about ten seconds), so both
    run off the Trio thread; the stop is shielded, and the caller keeps reading its channel
    until it returns. The initiator is built here and freed at once: quickfix keeps a
    process-wide registry of sessions by SessionID, and a session's destructor removes its id
    whoever holds it now, so one left to a later garbage collection could unregister a newer
    session of the same comp ids.
    """
    initiator = make()
    await trio.to_thread.run_sync(initiator.start)
    try:
        yield
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(initiator.stop)
            await trio.to_thread.run_sync(stopped)
        del initiator
        log.info("FIX session stopped", session=name)


def shown(text: str) -> str:
    """A FIX message as text a person can read: fields split by ``|``."""
    return text.replace("\x01", "|")


def sequence_numbers(session_id: fix.SessionID) -> tuple[int, int] | None:
    """The session's next outgoing and next expected incoming MsgSeqNum, or None when quickfix
    has no such session (not started yet, or stopped)."""
    session = fix.Session.lookupSession(session_id)
    if session is None:
        return None
    return session.getExpectedSenderNum(), session.getExpectedTargetNum()
