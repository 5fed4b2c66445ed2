"""The simulator's market-data FIX end: a quickfix acceptor in CoinAPI's market-data dialect.

One session, SenderCompID ``COINAPI_V2`` and TargetCompID the market-data API key: a client
logging on with another key matches no session and quickfix refuses it. Messages are checked
against quickfix's standard FIX44.xml with one relaxation: SubscriptionRequestType (263),
MDUpdateType (265) and MDEntryType (269) accept any value, so that a request quickfix would
refuse with a bare session-level Reject (263=5 is "out of range") reaches the application,
which answers with a MarketDataRequestReject (35=Y) saying what is supported. The dictionary is
derived at start from the one quickfix installs, as the EMS dialect's is, and also reads the
refreshes ``mdcodec`` writes as text into quickfix's messages.

``MarketDataApplication`` turns each MarketDataRequest into a frozen value inside the callback
and asks the ``MarketDataDesk`` what to send; ``publish`` (the ticker's thread, after every
market step) sends every subscriber its incremental refresh. One lock makes "decide, then
send" atomic, so a subscriber gets its snapshot before its first update and updates in order.
As in the EMS acceptor, that lock is never taken inside a callback quickfix makes while holding
its session lock (``toApp``, ``toAdmin``, ``onLogout``): a logon or logout only raises a flag,
and the subscriptions of the session that ended are dropped under the lock at the next request,
publish or listing. Every callback body is wrapped: an exception escaping ``onCreate``,
``onLogon``, ``onLogout`` or ``toAdmin`` kills the process.

The ``market_data_frozen`` fault holds every snapshot and update back while it is on.
Nothing is stored for resending (PersistMessages=N): a resend request gets a gap fill, since
stale market data is worse than none.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path

import quickfix as fix
import structlog

from sor_daemon.fix.dictionary import standard_fix44_path
from sor_daemon.sim.acceptor import BEGIN_STRING, AcceptorStartError
from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.faults import Faults
from sor_daemon.sim.mdcodec import MARKET_DATA_REQUEST, encode, parse_request
from sor_daemon.sim.mdmessages import MdOutbound, RequestReject
from sor_daemon.sim.settings import SimulatorSettings
from sor_daemon.sim.subscriptions import MarketDataDesk, SubscriptionListing

MD_SENDER_COMP_ID = "COINAPI_V2"
SESSION_SETTINGS_FILE_NAME = "md-acceptor.cfg"
DICTIONARY_FILE_NAME = "FIX44-coinapi-md.xml"
OPEN_ENUM_FIELDS = ("SubscriptionRequestType", "MDUpdateType", "MDEntryType")

log = structlog.get_logger(__name__)

_PASSED_TO_ENGINE = (
    fix.FieldNotFound,
    fix.IncorrectDataFormat,
    fix.IncorrectTagValue,
    fix.UnsupportedMessageType,
)


class MarketDataApplication(fix.Application):
    """The quickfix Application of the simulated market-data server."""

    def __init__(
        self,
        desk: MarketDataDesk,
        session_id: fix.SessionID,
        faults: Faults,
        dictionary: fix.DataDictionary,
    ) -> None:
        super().__init__()
        self._desk = desk
        self._dictionary = dictionary
        self._session_id = session_id
        self._faults = faults
        self._lock = threading.Lock()
        self._session_changed = threading.Event()

    def publish(self) -> None:
        """Send every subscriber what changed since the last publish (the ticker calls this)."""
        try:
            with self._lock:
                self._drop_ended_session()
                frozen = self._faults.current().market_data_frozen
                self._send_all(self._desk.publish(datetime.now(UTC), frozen=frozen))
        except Exception:
            log.exception("market data publish failed")

    def subscriptions(self) -> SubscriptionListing:
        """The live subscriptions and the unsubscribes so far."""
        with self._lock:
            self._drop_ended_session()
            return self._desk.listing()

    # -- quickfix callbacks --------------------------------------------------------------------

    def onCreate(self, sessionID: fix.SessionID) -> None:
        try:
            log.info("market data session created", session=sessionID.toString())
        except Exception:
            log.exception("market data onCreate failed")

    def onLogon(self, sessionID: fix.SessionID) -> None:
        try:
            self._session_changed.set()
            log.info("market data logon", session=sessionID.toString())
        except Exception:
            log.exception("market data onLogon failed")

    def onLogout(self, sessionID: fix.SessionID) -> None:
        try:
            self._session_changed.set()
            log.info("market data logout", session=sessionID.toString())
        except Exception:
            log.exception("market data onLogout failed")

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Nothing to add: the key is the session's comp id, not a field."""

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Session-level messages need nothing from the simulator."""

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Market data goes out as built."""

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        try:
            msg_type = message.getHeader().getField(35)
            if msg_type != MARKET_DATA_REQUEST:
                log.info("market data message type not supported", msg_type=msg_type)
                raise fix.UnsupportedMessageType()
            request = parse_request(message)
            with self._lock:
                self._drop_ended_session()
                frozen = self._faults.current().market_data_frozen
                self._send_all(self._desk.handle(request, datetime.now(UTC), frozen=frozen))
        except _PASSED_TO_ENGINE:
            raise
        except Exception:
            log.exception(
                "market data request failed", message=message.toString().replace("\x01", "|")
            )

    # -- inside the lock -----------------------------------------------------------------------

    def _drop_ended_session(self) -> None:
        """A logon or logout happened since the last look: the old subscriptions are over."""
        if self._session_changed.is_set():
            self._session_changed.clear()
            self._desk.end_session()

    def _send_all(self, outbound: list[MdOutbound]) -> None:
        for item in outbound:
            if isinstance(item, RequestReject):
                log.info("market data request rejected", md_req_id=item.md_req_id, text=item.text)
            try:
                fix.Session.sendToTarget(encode(item, self._dictionary), self._session_id)
            except fix.SessionNotFound:
                log.warning("market data session not found", session=self._session_id.toString())
                return


class MarketDataAcceptor:
    """The market-data acceptor from session settings to stop; ``start`` and ``stop`` block."""

    def __init__(
        self, settings: SimulatorSettings, exchange: SimulatedExchange, port: int, faults: Faults
    ) -> None:
        path = write_session_settings(settings, port=port)
        self.port = port
        self.session_id = fix.SessionID(BEGIN_STRING, MD_SENDER_COMP_ID, settings.md_api_key)
        desk = MarketDataDesk(settings.instruments, exchange, settings.market.levels)
        dictionary = fix.DataDictionary(str(settings.data_dir / DICTIONARY_FILE_NAME))
        self.application = MarketDataApplication(desk, self.session_id, faults, dictionary)
        self._session_settings = fix.SessionSettings(str(path))
        self._store_factory = fix.MemoryStoreFactory()
        self._acceptor = fix.ThreadedSocketAcceptor(
            self.application, self._store_factory, self._session_settings
        )

    def start(self) -> None:
        """Bind the port and accept the logon (quickfix runs its own threads).

        As ``EmsAcceptor.start``: a failure frees the acceptor at once and raises
        ``AcceptorStartError``, without chaining quickfix's exception (its traceback would keep
        the acceptor alive).
        """
        try:
            self._acceptor.start()
        except (fix.ConfigError, fix.RuntimeError) as error:
            problem = str(error)
        else:
            return
        del self._acceptor
        raise AcceptorStartError(
            f"the market-data FIX acceptor cannot start on port {self.port}: {problem}"
        )

    def stop(self) -> None:
        """Log out the client, close the port and free quickfix's session; call it once.

        Blocks up to quickfix's logout timeout; freed here for the reason ``EmsAcceptor.stop``
        gives (a session left to the garbage collector unregisters a newer one of the same id).
        """
        self._acceptor.stop()
        del self._acceptor


def write_md_dictionary(directory: Path) -> Path:
    """Write quickfix's FIX44.xml with ``OPEN_ENUM_FIELDS`` open into ``directory``."""
    tree = ElementTree.parse(standard_fix44_path())
    for name in OPEN_ENUM_FIELDS:
        field = tree.getroot().find(f"./fields/field[@name='{name}']")
        if field is None:
            raise ValueError(f"FIX44.xml has no {name} field")
        for value in field.findall("value"):
            field.remove(value)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / DICTIONARY_FILE_NAME
    partial = target.with_suffix(".xml.partial")
    tree.write(partial, encoding="utf-8", xml_declaration=True)
    partial.replace(target)
    return target


def write_session_settings(settings: SimulatorSettings, *, port: int) -> Path:
    """Write the market-data acceptor's session settings into the data dir; return the path."""
    lines = [
        "[DEFAULT]",
        "ConnectionType=acceptor",
        f"SocketAcceptPort={port}",
        "SocketReuseAddress=Y",
        "SocketNodelay=Y",
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=Y",
        f"DataDictionary={write_md_dictionary(settings.data_dir)}",
        "ResetOnLogon=Y",
        "ResetOnLogout=Y",
        "ResetOnDisconnect=Y",
        "PersistMessages=N",
        "",
        "[SESSION]",
        f"BeginString={BEGIN_STRING}",
        f"SenderCompID={MD_SENDER_COMP_ID}",
        f"TargetCompID={settings.md_api_key}",
        "",
    ]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / SESSION_SETTINGS_FILE_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
