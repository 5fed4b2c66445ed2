"""Parent-level ExecutionReports: what the engine's events mean to the FIX client of an order.

``ParentReporter`` is an engine observer (``Services.observers``): the runner calls it with each
event it records, after the order applied it. Orders whose origin is ``fix:<CompID>`` of a
configured session are reported on that session; every other order is not its business. A
booked fill is a Trade (150=F) with the order's totals across venues; an amend a Replaced
(150=5); a cancel a Canceled (150=4); an order that ends Expired or Failed with something left
a Done for day (150=3). The fill that completes the order is the Trade with OrdStatus 2.

An order's ClOrdID chain is its journal's: a cancel or amend from FIX carries its ClOrdID into
the engine, which journals it with the event (``client_ref``), so after a restart the order is
still known by its latest ClOrdID. A Canceled or Replaced that answers such a request carries
that ClOrdID and, as OrigClOrdID, the one before it in the chain.

Reports are sent whether the client is logged on or not: quickfix stores them (the session's
FileStore) and resends them when the client's ResendRequest after its next logon asks. They
leave through the session's outbox (``fix.outbox.SessionOutboxes``), never from the Trio
thread: a client that stops reading holds up only its own session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

import attrs
import quickfix as fix
import structlog

from sor_daemon.domain.events import Event, ParametersChanged, StatusChanged
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import Fill, OrderStatus
from sor_daemon.fix.parent_dialect import (
    Echo,
    ExecType,
    OrdStatus,
    ParentReport,
    Peer,
    execution_report,
)

log = structlog.get_logger(__name__)

ZERO = Decimal(0)
ORIGIN_PREFIX = "fix:"


class ParentReporter:
    """Reports FIX-entered orders to their sessions, each under its current ClOrdID (the
    order's ``client_ref``), with ``send`` (``SessionOutboxes.send``: True when taken)."""

    def __init__(
        self, peers: Mapping[str, Peer], send: Callable[[fix.Message, fix.SessionID], bool]
    ) -> None:
        self._peers = peers
        self._send_message = send

    def peer_of(self, order: SmartOrder) -> Peer | None:
        """The session an order was entered on, or None for orders from elsewhere."""
        if not order.origin.startswith(ORIGIN_PREFIX):
            return None
        return self._peers.get(order.origin.removeprefix(ORIGIN_PREFIX))

    def report_new(self, order: SmartOrder, at: datetime) -> None:
        """The New (150=0) of an order just accepted."""
        self._send(order, self._report(order, ExecType.NEW, at))

    def __call__(self, order: SmartOrder, event: Event, fill: Fill | None) -> None:
        """The engine observer: report what ``event`` changed, if the client must know."""
        if self.peer_of(order) is None:
            return
        if fill is not None:
            report = self._report(order, ExecType.TRADE, fill.at)
            self._send(order, attrs.evolve(report, last_qty=fill.quantity, last_px=fill.price))
        elif isinstance(event, ParametersChanged):
            self._send(order, self._answer(order, ExecType.REPLACED, event))
        elif isinstance(event, StatusChanged) and event.status is OrderStatus.CANCELLED:
            self._send(order, self._answer(order, ExecType.CANCELED, event, event.info))
        elif isinstance(event, StatusChanged) and event.status in (
            OrderStatus.EXPIRED,
            OrderStatus.FAILED,
        ):
            report = self._report(order, ExecType.DONE_FOR_DAY, event.at)
            self._send(order, attrs.evolve(report, text=event.info))

    def _answer(
        self,
        order: SmartOrder,
        exec_type: str,
        event: ParametersChanged | StatusChanged,
        text: str | None = None,
    ) -> ParentReport:
        """A Replaced or Canceled; answering a request with a ClOrdID (the event's, now the
        order's), it names the ClOrdID before it as OrigClOrdID."""
        report = attrs.evolve(self._report(order, exec_type, event.at), text=text)
        if event.client_ref is None:
            return report
        chain = [order.id, *order.client_refs]
        return attrs.evolve(report, orig_cl_ord_id=chain[-2])

    def _report(self, order: SmartOrder, exec_type: str, at: datetime) -> ParentReport:
        filled = order.filled
        return ParentReport(
            order_id=order.id,
            cl_ord_id=order.client_ref,
            exec_type=exec_type,
            ord_status=ord_status(order),
            echo=Echo(
                order.params.symbol, order.params.side, order.amount, order.params.limit_price
            ),
            cum_qty=filled,
            leaves_qty=ZERO if order.status.terminal else max(order.amount - filled, ZERO),
            avg_px=order.filled_notional / filled if filled else ZERO,
            at=at,
            algorithm=order.algorithm,
        )

    def _send(self, order: SmartOrder, report: ParentReport) -> None:
        peer = self.peer_of(order)
        if peer is None:
            return
        if not self._send_message(execution_report(report), peer.session_id):
            log.warning(
                "parent report not sent: FIX order entry is not running",
                smart_order_id=order.id,
                session=peer.theirs,
                exec_type=report.exec_type,
            )


def ord_status(order: SmartOrder) -> str:
    """OrdStatus (39) of a parent order as it stands."""
    if order.filled >= order.amount:
        return OrdStatus.FILLED
    if order.status is OrderStatus.CANCELLED:
        return OrdStatus.CANCELED
    if order.status in (OrderStatus.EXPIRED, OrderStatus.FAILED):
        return OrdStatus.DONE_FOR_DAY
    return OrdStatus.PARTIALLY_FILLED if order.filled else OrdStatus.NEW
