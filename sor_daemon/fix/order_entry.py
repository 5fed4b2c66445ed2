"""FIX order entry: a FIX 4.4 acceptor where institutions send smart orders to the daemon.

Each configured session is one client (its CompID is the ``origin`` of its orders,
``fix:<CompID>``). The acceptor is a quickfix ``ThreadedSocketAcceptor`` (one thread per
connection; see ``sor_daemon.sim.acceptor`` for why not the plain one), or with TLS an
``SSLSocketAcceptor`` (the binding's only SSL acceptor: one thread for every connection, and a
handshake that stalls it for up to ten seconds), with a FileStore under
``data/fix/order_entry/``, so sequence numbers survive restarts and a client's ResendRequest is
served from the store. Its callbacks hand each request to Trio as a value (``TrioBridge`` with
``parent_dialect.read_request``); this module carries the requests out on the engine, one at a
time in arrival order, and answers refusals (35=8 Rejected, 35=9, 35=j). What happens to an
accepted order afterwards is reported by ``ParentReporter``, an engine observer.

Every message to a client leaves through its session's outbox (``SessionOutboxes``), on a
thread of its own: the threaded acceptor writes on the thread that sends and blocks while the
client's receive buffer is full, so a client that stopped reading would otherwise stop the Trio
thread, and with it every other client, the API and the algorithms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import quickfix as fix
import structlog
import trio

from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.engine.engine import USER_CANCEL_REASON, Engine
from sor_daemon.fix.bridge import (
    TrioBridge,
    read_with_dictionary,
    running_initiator,
    sequence_numbers,
)
from sor_daemon.fix.dictionary import write_order_entry_dictionary
from sor_daemon.fix.outbox import SessionOutboxes
from sor_daemon.fix.parent_dialect import (
    CXL_OTHER,
    CXL_TOO_LATE,
    CXL_UNKNOWN_ORDER,
    NO_ORDER_ID,
    ORD_TYPE_MARKET,
    AmendParent,
    CancelParent,
    Echo,
    ExecType,
    NewParent,
    OrdStatus,
    ParentReport,
    Peer,
    Refused,
    Unsupported,
    business_reject,
    cancel_reject,
    duration_text,
    execution_report,
    read_request,
)
from sor_daemon.fix.parent_reports import ParentReporter, ord_status
from sor_daemon.fix.settings import common_defaults, tls_acceptor_settings, write_settings
from sor_daemon.protocol.codec import parse_update_body
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import ParameterChanges

log = structlog.get_logger(__name__)


@attrs.frozen
class OrderEntrySession:
    """One client: ``sender_comp_id`` is the daemon's CompID on the session, ``target_comp_id``
    the client's (and its orders' origin, ``fix:<target_comp_id>``)."""

    sender_comp_id: str
    target_comp_id: str


@attrs.frozen
class OrderEntrySettings:
    """The acceptor: off unless ``port`` is set (quickfix 1.16 binds every interface).

    With ``tls`` it is an ``SSLSocketAcceptor`` presenting ``tls_cert`` and ``tls_key`` (PEM,
    the key unencrypted); with ``tls_ca`` too, only clients with a certificate chaining to it
    complete the handshake.
    """

    port: int = 0
    reset_on_logon: bool = False
    sessions: tuple[OrderEntrySession, ...] = ()
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None

    def peers(self) -> dict[str, Peer]:
        """Each session's ``Peer``, by the client's CompID."""
        return {s.target_comp_id: Peer(s.sender_comp_id, s.target_comp_id) for s in self.sessions}

    def outboxes(self) -> SessionOutboxes:
        """An outbox for each session, closed until the acceptor runs."""
        return SessionOutboxes(
            (peer.session_id for peer in self.peers().values()), name="fix-order-entry"
        )

    def client_sessions(self) -> dict[str, ClientSession]:
        """Each client's session as health and metrics read it, by the client's CompID."""
        return {
            s.target_comp_id: ClientSession(
                fix.SessionID("FIX.4.4", s.sender_comp_id, s.target_comp_id)
            )
            for s in self.sessions
        }

    def tls_settings(self) -> dict[str, object]:
        """The acceptor's quickfix SSL settings; empty without ``tls``."""
        if not self.tls or self.tls_cert is None or self.tls_key is None:
            return {}
        return tls_acceptor_settings(self.tls_cert, self.tls_key, self.tls_ca)


class ClientSession:
    """One client's session, its state read from quickfix when asked (so never stale): down
    while the acceptor is not running."""

    def __init__(self, session_id: fix.SessionID) -> None:
        self.session_id = session_id

    @property
    def is_up(self) -> bool:
        """True while the client is logged on."""
        session = fix.Session.lookupSession(self.session_id)
        return session is not None and bool(session.isLoggedOn())

    @property
    def sequence_numbers(self) -> tuple[int, int] | None:
        """The session's next outgoing and next expected incoming MsgSeqNum, or None while
        the acceptor is not running."""
        return sequence_numbers(self.session_id)


class OrderEntry:
    """The acceptor and the Trio task that carries its requests out on the engine."""

    def __init__(
        self,
        settings: OrderEntrySettings,
        data_dir: Path,
        engine: Engine,
        reporter: ParentReporter,
        outboxes: SessionOutboxes,
    ) -> None:
        self.settings = settings
        self._data_dir = data_dir / "fix" / "order_entry"
        self._engine = engine
        self._reporter = reporter
        self._outboxes = outboxes

    async def run(
        self,
        *,
        shutdown_trigger: Callable[[], Awaitable[object]] = trio.sleep_forever,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept sessions and serve requests until ``shutdown_trigger`` returns (or until
        cancelled); then log the clients out, stop the acceptor and close the outboxes."""
        raw_send, raw_receive = trio.open_memory_channel[object](float("inf"))
        dictionary = write_order_entry_dictionary(self._data_dir)
        bridge = TrioBridge(
            "order_entry",
            trio.lowlevel.current_trio_token(),
            raw_send.send_nowait,
            translate=read_request,
            on_logon=lambda: None,
            on_logout=lambda: None,
            read=read_with_dictionary(dictionary),
        )
        defaults = common_defaults(
            self._data_dir, dictionary, reset_on_logon=self.settings.reset_on_logon
        )
        defaults |= {
            "ConnectionType": "acceptor",
            "SocketAcceptPort": self.settings.port,
            "SocketReuseAddress": True,
            "SocketNodelay": True,
        }
        defaults |= self.settings.tls_settings()
        sessions = [
            {
                "BeginString": "FIX.4.4",
                "SenderCompID": session.sender_comp_id,
                "TargetCompID": session.target_comp_id,
            }
            for session in self.settings.sessions
        ]
        settings = write_settings(self._data_dir, defaults, sessions)
        acceptor = fix.SSLSocketAcceptor if self.settings.tls else fix.ThreadedSocketAcceptor
        async with running_initiator(
            "order_entry",
            lambda: acceptor(
                bridge, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings)
            ),
            stopped=self._outboxes.close,
        ):
            self._outboxes.open()
            log.info(
                "FIX order entry listening",
                port=self.settings.port,
                tls=self.settings.tls,
                clients=[session.target_comp_id for session in self.settings.sessions],
            )
            task_status.started()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._serve, raw_receive)
                await shutdown_trigger()
                nursery.cancel_scope.cancel()

    async def _serve(self, requests: trio.MemoryReceiveChannel[object]) -> None:
        async for request in requests:
            try:
                await self.handle(request)
            except Exception:
                log.exception("FIX order entry request failed", request=repr(request))

    async def handle(self, request: object) -> None:
        """Carry out one request read from a session (other values are ignored)."""
        match request:
            case NewParent():
                await self._on_new(request)
            case Refused():
                self._reject_new(request.peer, request.cl_ord_id, request.echo, request.text)
            case CancelParent():
                await self._on_cancel(request)
            case AmendParent():
                await self._on_amend(request)
            case Unsupported():
                self._answer(request.peer, business_reject(request))

    async def _on_new(self, request: NewParent) -> None:
        try:
            order = await self._engine.submit(request.order, origin=request.peer.origin)
        except ProtocolError as error:
            self._reject_new(request.peer, request.cl_ord_id, request.echo, error.message)
            return
        log.info("FIX parent order accepted", smart_order_id=order.id, client=request.peer.theirs)
        self._reporter.report_new(order, datetime.now(UTC))

    def _reject_new(self, peer: Peer, cl_ord_id: str, echo: Echo, text: str) -> None:
        log.info("FIX parent order rejected", cl_ord_id=cl_ord_id, client=peer.theirs, text=text)
        report = ParentReport(
            order_id=NO_ORDER_ID,
            cl_ord_id=cl_ord_id,
            exec_type=ExecType.REJECTED,
            ord_status=OrdStatus.REJECTED,
            echo=echo,
            cum_qty=Decimal(0),
            leaves_qty=Decimal(0),
            avg_px=Decimal(0),
            at=datetime.now(UTC),
            text=text,
        )
        self._answer(peer, execution_report(report))

    async def _on_cancel(self, request: CancelParent) -> None:
        order = self._find(request.peer, request.orig_cl_ord_id, request.order_id)
        if order is None:
            self._unknown(request, replace=False)
            return
        await self._command(
            request,
            order,
            lambda: self._engine.cancel(order.id, USER_CANCEL_REASON, request.cl_ord_id),
        )

    async def _on_amend(self, request: AmendParent) -> None:
        order = self._find(request.peer, request.orig_cl_ord_id, request.order_id)
        if order is None:
            self._unknown(request, replace=True)
            return
        if request.error is not None:
            self._cancel_reject(request, order, CXL_OTHER, request.error)
            return
        try:
            changes = _changes(request, order)
        except ProtocolError as error:
            reason = CXL_TOO_LATE if order.status.terminal else CXL_OTHER
            self._cancel_reject(request, order, reason, error.message)
            return
        await self._command(
            request, order, lambda: self._engine.change(order.id, changes, request.cl_ord_id)
        )

    async def _command(
        self,
        request: CancelParent | AmendParent,
        order: SmartOrder,
        command: Callable[[], Awaitable[SmartOrder]],
    ) -> None:
        """Run a cancel or amend, which journals the request's ClOrdID with its event; its
        report (Canceled, Replaced) comes from the observer, its refusal is a 35=9 from here."""
        if order.status.terminal:
            text = f"smart order {order.id} is already {order.status.value}"
            self._cancel_reject(request, order, CXL_TOO_LATE, text)
            return
        try:
            await command()
        except ProtocolError as error:
            reason = CXL_TOO_LATE if order.status.terminal else CXL_OTHER
            self._cancel_reject(request, order, reason, error.message)

    def _find(self, peer: Peer, orig_cl_ord_id: str, order_id: str | None) -> SmartOrder | None:
        """The order of ``peer`` that OrderID (37) names; else the one whose current ClOrdID
        (its journaled ``client_ref``) is OrigClOrdID (41), the newest if several; else the one
        whose first ClOrdID (its id) that is. Retired orders are found too (and are then too
        late to change)."""
        candidates = [order_id, *self._engine.with_client_ref(orig_cl_ord_id), orig_cl_ord_id]
        for candidate in candidates:
            if candidate is None:
                continue
            try:
                order = self._engine.get(candidate)
            except ProtocolError:
                continue
            if order.origin == peer.origin:
                return order
        return None

    def _answer(self, peer: Peer, message: fix.Message) -> None:
        if not self._outboxes.send(message, peer.session_id):
            log.warning("FIX order entry answer not sent", client=peer.theirs)

    def _unknown(self, request: CancelParent | AmendParent, *, replace: bool) -> None:
        self._answer(
            request.peer,
            cancel_reject(
                order_id=request.order_id,
                cl_ord_id=request.cl_ord_id,
                orig_cl_ord_id=request.orig_cl_ord_id,
                ord_status=OrdStatus.REJECTED,
                replace=replace,
                reason=CXL_UNKNOWN_ORDER,
                text=f"no order with ClOrdID {request.orig_cl_ord_id} on this session",
            ),
        )

    def _cancel_reject(
        self, request: CancelParent | AmendParent, order: SmartOrder, reason: str, text: str
    ) -> None:
        self._answer(
            request.peer,
            cancel_reject(
                order_id=order.id,
                cl_ord_id=request.cl_ord_id,
                orig_cl_ord_id=request.orig_cl_ord_id,
                ord_status=ord_status(order),
                replace=isinstance(request, AmendParent),
                reason=reason,
                text=text,
            ),
        )


def _changes(request: AmendParent, order: SmartOrder) -> ParameterChanges:
    """The amend as a ParamChange, checked by the same codec; unchanged OrderQty or Price is no
    change.

    ExpireTime (126) becomes the duration counted from the order's start. OrdType 2 with a
    Price (44) sets or moves the limit price; OrdType 1 on a limit order, which would take the
    limit off, is refused."""
    names = {"Duration": "duration", "Interval": "interval", "SafetyThreshold": "safety_threshold"}
    parameters: dict[str, object] = {names[key]: value for key, value in request.parameters.items()}
    if request.order_qty is not None and request.order_qty != order.amount:
        parameters["amount"] = f"{request.order_qty:f}"
    limit = order.params.limit_price
    if request.ord_type == ORD_TYPE_MARKET and limit is not None:
        raise ProtocolError(
            "INVALID_PARAMETER",
            f"OrdType (40) 1 would take off the limit price {limit:f}, which cannot be done: "
            "send OrdType 2 with a Price (44), or cancel the order and send a new one",
        )
    if request.limit_price is not None and request.limit_price != limit:
        parameters["limit_price"] = f"{request.limit_price:f}"
    if request.expire_time is not None:
        parameters["duration"] = duration_text(order.schedule.anchor, request.expire_time)
    return parse_update_body({"id": order.id, "parameters": parameters}).parameters
