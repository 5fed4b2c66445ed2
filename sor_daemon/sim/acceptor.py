"""The simulator's FIX end: a quickfix acceptor speaking CoinAPI's EMS dialect.

``EmsApplication`` turns each request into a frozen value inside the callback, asks the
``SimulatedExchange`` for the answer and queues it on its ``Outbox``, whose thread sends it with
``Session.sendToTarget``: the thread reading requests never waits on a client slow to read its
reports (``sor_daemon.fix.outbox`` tells why). One dispatch lock makes "compute the reports,
queue them" atomic, so the reports of one order leave in the order they happened even though
requests (quickfix's connection thread) and market steps (the ticker's thread) race. The lock
is never taken inside a callback quickfix makes while holding its own session lock (``toApp``,
``toAdmin``, ``onLogout``), so the two cannot deadlock.

The acceptor is a ``ThreadedSocketAcceptor`` (one thread per connection, callbacks in order):
the plain ``SocketAcceptor`` of quickfix 1.16 closes its server socket from the thread calling
``stop`` while its own thread closes and deletes it too, a race that now and then segfaults.
With TLS (``SimulatorSettings.tls_cert``) it is an ``SSLSocketAcceptor``, the only SSL acceptor
the Python binding offers: one thread for every connection, whose ``stop`` leaves the server
socket to that thread, so it has no such race. It requires a client certificate chaining to
``tls_client_ca`` (``CertificateVerifyLevel=1``); its handshake runs on that one thread and gives
up after ten seconds.

Every callback body is wrapped: an exception escaping ``onCreate``, ``onLogon``, ``onLogout`` or
``toAdmin`` kills the process. Only the exceptions quickfix turns into FIX rejects are let
through (``UnsupportedMessageType`` becomes a BusinessMessageReject).

The fault modes (``sor_daemon.sim.faults``) are read on every send: a report can go out twice,
or be followed by a PossDupFlag=Y copy; status requests can go unanswered; ``disconnect`` drops
the client's TCP connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import quickfix as fix
import structlog

from sor_daemon.fix.dialect import FlatFields
from sor_daemon.fix.dictionary import write_ems_dictionary
from sor_daemon.fix.outbox import Outbox
from sor_daemon.fix.settings import tls_acceptor_settings
from sor_daemon.logs import debug_enabled
from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.faults import Faults
from sor_daemon.sim.fill_times import FillTimes
from sor_daemon.sim.fixcodec import (
    NEW_ORDER_SINGLE,
    ORDER_CANCEL_REQUEST,
    ORDER_MASS_CANCEL_REQUEST,
    ORDER_STATUS_REQUEST,
    encode,
    parse_cancel,
    parse_mass_cancel,
    parse_new_order,
    parse_status,
)
from sor_daemon.sim.orders import ExecType, ExecutionReport, Outbound
from sor_daemon.sim.settings import SimulatorSettings

BEGIN_STRING = "FIX.4.4"
SESSION_SETTINGS_FILE_NAME = "ems-acceptor.cfg"

log = structlog.get_logger(__name__)

_PASSED_TO_ENGINE = (
    fix.FieldNotFound,
    fix.IncorrectDataFormat,
    fix.IncorrectTagValue,
    fix.UnsupportedMessageType,
)


class AcceptorStartError(RuntimeError):
    """The FIX acceptor could not start (most often: its port is in use)."""


class EmsApplication(fix.Application):
    """The quickfix Application of the simulated EMS."""

    def __init__(
        self,
        exchange: SimulatedExchange,
        session_id: fix.SessionID,
        *,
        lean_reports: bool,
        faults: Faults,
    ) -> None:
        super().__init__()
        self._exchange = exchange
        self._session_id = session_id
        self._lean_reports = lean_reports
        self._faults = faults
        self.fill_times = FillTimes()
        """When each fill report was handed to quickfix (``sor_daemon.sim.fill_times``)."""
        self._dispatch_lock = threading.Lock()
        self._outbox = Outbox[Outbound](self._send, name="sim-fix-sender")
        self._replaying = threading.local()
        self._handlers: dict[str, Callable[[FlatFields], None]] = {
            NEW_ORDER_SINGLE: self._on_new_order,
            ORDER_CANCEL_REQUEST: self._on_cancel,
            ORDER_MASS_CANCEL_REQUEST: self._on_mass_cancel,
            ORDER_STATUS_REQUEST: self._on_status,
        }

    def open(self) -> None:
        """Start sending answers (before the acceptor takes a logon)."""
        self._outbox.open()

    def close(self) -> None:
        """Stop sending, dropping the answers still queued (call it once the acceptor stopped:
        a send waiting on the client holds this up until quickfix closes its socket)."""
        self._outbox.close(send_queued=False)

    def tick(self) -> None:
        """Step the market to now and send what resting orders did (the ticker calls this)."""
        try:
            self._dispatch(self._exchange.advance)
        except Exception:
            log.exception("simulator tick failed")

    # -- quickfix callbacks --------------------------------------------------------------------

    def onCreate(self, sessionID: fix.SessionID) -> None:
        try:
            log.info("fix session created", session=sessionID.toString())
        except Exception:
            log.exception("fix onCreate failed")

    def onLogon(self, sessionID: fix.SessionID) -> None:
        try:
            log.info("fix logon", session=sessionID.toString())
        except Exception:
            log.exception("fix onLogon failed")

    def onLogout(self, sessionID: fix.SessionID) -> None:
        try:
            log.info("fix logout", session=sessionID.toString())
        except Exception:
            log.exception("fix onLogout failed")

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Nothing to add: the Logon carries no credentials in this dialect."""

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Session-level messages need nothing from the simulator."""

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Flag a replayed copy (see ``_send_poss_dup``); anything else goes out as built.

        A resend of a stored report is harmless, and quickfix has flagged it already.
        """
        try:
            original_sending_time = getattr(self._replaying, "original_sending_time", None)
            if original_sending_time is not None:
                header = message.getHeader()
                header.setField(43, "Y")
                header.setField(122, original_sending_time)
        except Exception:
            log.exception("fix toApp failed", message=message.toString().replace("\x01", "|"))

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        try:
            fields = FlatFields.read(message.toString())
            msg_type = fields.getField(35)
            handler = self._handlers.get(msg_type)
            if handler is None:
                log.info("fix message type not supported", msg_type=msg_type)
                raise fix.UnsupportedMessageType()
            handler(fields)
        except _PASSED_TO_ENGINE:
            raise
        except Exception:
            log.exception("fix request failed", message=message.toString().replace("\x01", "|"))

    # -- requests ------------------------------------------------------------------------------

    def _on_new_order(self, fields: FlatFields) -> None:
        request = parse_new_order(fields)
        if debug_enabled():
            log.debug("fix new order", cl_ord_id=request.client_order_id, exchange=request.exchange)
        self._dispatch(lambda now: self._exchange.submit(request, now))

    def _on_cancel(self, fields: FlatFields) -> None:
        request = parse_cancel(fields)
        if debug_enabled():
            log.debug("fix cancel", cl_ord_id=request.request_id, orig=request.orig_client_order_id)
        self._dispatch(lambda now: self._exchange.cancel(request, now))

    def _on_mass_cancel(self, fields: FlatFields) -> None:
        request = parse_mass_cancel(fields)
        if debug_enabled():
            log.debug("fix mass cancel", cl_ord_id=request.request_id, exchange=request.exchange)
        self._dispatch(lambda now: self._exchange.mass_cancel(request, now))

    def _on_status(self, fields: FlatFields) -> None:
        request = parse_status(fields)
        if not self._faults.current().answer_status_requests:
            log.info("fix status request ignored", cl_ord_id=request.client_order_id)
            return
        self._dispatch(lambda now: self._exchange.status(request, now))

    # -- answers -------------------------------------------------------------------------------

    def _dispatch(self, action: Callable[[datetime], list[Outbound]]) -> None:
        with self._dispatch_lock:
            for item in action(datetime.now(UTC)):
                self._outbox.put(item)

    def _send(self, item: Outbound) -> None:
        """On the outbox's thread: send one answer, and the copies the fault switches ask for
        after a report."""
        if isinstance(item, ExecutionReport) and item.exec_type is ExecType.REJECTED:
            log.info("fix order rejected", cl_ord_id=item.client_order_id, text=item.text)
        message = encode(item, lean=self._lean_reports)
        if isinstance(item, ExecutionReport) and item.exec_type is ExecType.TRADE:
            self.fill_times.record(item.client_order_id, item.cum_qty, time.time())
        if not self._send_message(message) or not isinstance(item, ExecutionReport):
            return
        faults = self._faults.current()
        if not (faults.duplicate_reports or faults.poss_dup_reports):
            return
        original_sending_time = message.getHeader().getField(52)
        if faults.duplicate_reports:
            self._send_message(message)
        if faults.poss_dup_reports:
            self._send_poss_dup(message, original_sending_time)

    def _send_poss_dup(self, message: fix.Message, original_sending_time: str) -> None:
        """Send ``message`` again as a replay of the one sent at ``original_sending_time``.

        ``sendToTarget`` strips PossDupFlag and OrigSendingTime before it numbers the message
        (quickfix keeps them for its own resends), then calls ``toApp`` on this same thread:
        that is where they are put back, from this thread's ``_replaying``.
        """
        self._replaying.original_sending_time = original_sending_time
        try:
            self._send_message(message)
        finally:
            self._replaying.original_sending_time = None

    def _send_message(self, message: fix.Message) -> bool:
        """``sendToTarget``, which numbers the message and stamps its SendingTime in place."""
        try:
            sent = bool(fix.Session.sendToTarget(message, self._session_id))
        except fix.SessionNotFound:
            log.warning("fix session not found", session=self._session_id.toString())
            return False
        if not sent:
            log.debug("fix message not sent: the client is not logged on")
        return sent


class EmsAcceptor:
    """The acceptor from session settings to stop; ``start`` and ``stop`` block."""

    def __init__(
        self, settings: SimulatorSettings, exchange: SimulatedExchange, port: int, faults: Faults
    ):
        dictionary = write_ems_dictionary(settings.data_dir)
        path = write_session_settings(settings, port=port, dictionary=dictionary)
        self.port = port
        self.session_id = fix.SessionID(
            BEGIN_STRING, settings.sender_comp_id, settings.target_comp_id
        )
        self.application = EmsApplication(
            exchange,
            self.session_id,
            lean_reports=settings.lean_reports,
            faults=faults,
        )
        self._session_settings = fix.SessionSettings(str(path))
        self._store_factory = fix.FileStoreFactory(self._session_settings)
        self._log_factory = fix.FileLogFactory(self._session_settings)
        acceptor_class = fix.SSLSocketAcceptor if settings.tls else fix.ThreadedSocketAcceptor
        self._acceptor = acceptor_class(
            self.application, self._store_factory, self._session_settings, self._log_factory
        )

    def start(self) -> None:
        """Bind the port and accept logons (quickfix runs its own threads).

        If binding fails the acceptor is freed at once, for the reason ``stop`` gives, and
        ``AcceptorStartError`` is raised. quickfix's own exception is not chained to it: its
        traceback would keep the acceptor alive until the garbage collector runs.
        """
        self.application.open()
        try:
            self._acceptor.start()
        except (fix.ConfigError, fix.RuntimeError) as error:
            problem = str(error)
        else:
            return
        self.application.close()
        del self._acceptor
        raise AcceptorStartError(f"the FIX acceptor cannot start on port {self.port}: {problem}")

    def disconnect(self) -> int:
        """Drop the TCP connection of every logged-on session now; return how many were dropped.

        No Logout is sent, as when the network fails; an initiator reconnects by itself and the
        acceptor keeps accepting. ``Session.disconnect`` waits for the session's lock (a send
        in progress holds it), so this can block: call it off the Trio thread.
        """
        dropped = 0
        for session_id in self._acceptor.getSessions():
            session = fix.Session.lookupSession(session_id)
            if session is not None and session.isLoggedOn():
                log.info("fix connection dropped on request", session=session_id.toString())
                session.disconnect()
                dropped += 1
        return dropped

    def stop(self) -> None:
        """Log out the client, close the port and free quickfix's sessions; call it once.

        Blocks up to quickfix's logout timeout. quickfix registers sessions process-wide by
        SessionID and a session's destructor drops the registration of that id, so an acceptor
        left for the garbage collector would later unregister a newer simulator's session of
        the same comp ids; freeing it here, while its factories still live, prevents that.
        Answers still queued when the client is gone are dropped; a send that was waiting on the
        client ends when quickfix closes its socket.
        """
        self._acceptor.stop()
        self.application.close()
        del self._acceptor


def write_session_settings(settings: SimulatorSettings, *, port: int, dictionary: Path) -> Path:
    """Write the acceptor's quickfix session settings into the data dir; return the path."""
    data_dir = settings.data_dir
    lines = [
        "[DEFAULT]",
        "ConnectionType=acceptor",
        f"SocketAcceptPort={port}",
        "SocketReuseAddress=Y",
        "SocketNodelay=Y",
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=Y",
        f"DataDictionary={dictionary}",
        f"FileStorePath={data_dir / 'fix-store'}",
        f"FileLogPath={data_dir / 'fix-log'}",
        f"ResetOnLogon={_yes_no(settings.reset_on_logon)}",
        f"ResetOnLogout={_yes_no(settings.reset_on_logout)}",
        f"ResetOnDisconnect={_yes_no(settings.reset_on_disconnect)}",
        *_tls_lines(settings),
        "",
        "[SESSION]",
        f"BeginString={BEGIN_STRING}",
        f"SenderCompID={settings.sender_comp_id}",
        f"TargetCompID={settings.target_comp_id}",
        "",
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SESSION_SETTINGS_FILE_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _tls_lines(settings: SimulatorSettings) -> list[str]:
    """[DEFAULT] lines of an ``SSLSocketAcceptor`` that demands a client certificate signed by
    ``tls_client_ca`` (see ``tls_acceptor_settings``)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return []
    tls = tls_acceptor_settings(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    return [f"{key}={value}" for key, value in tls.items()]


def _yes_no(flag: bool) -> str:
    return "Y" if flag else "N"
