"""Parent-level ExecutionReports: what the engine's events mean to the FIX client of an order.

``ParentReporter`` is an engine observer (``Services.observers``): the runner calls it with each
event it records, after the order applied it. Orders whose origin is ``fix:<CompID>`` of a
configured session are reported on that session; every other order is not its business. A
booked fill is a Trade (150=F) with the order's totals across venues; an amend a Replaced
(150=5); a cancel a Canceled (150=4); an order that ends Expired or Failed with something left
a Done for day (150=3). The fill that completes the order is the Trade with OrdStatus 2.

Reports are sent whether the client is logged on or not: quickfix stores them (the session's
FileStore) and resends them when the client's ResendRequest after its next logon asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import attrs
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


@attrs.frozen
class Pending:
    """A cancel or amend in progress: the ClOrdID its report answers with."""

    cl_ord_id: str
    orig_cl_ord_id: str


class ParentReporter:
    """Reports FIX-entered orders to their sessions; knows each order's current ClOrdID.

    A ClOrdID chain (each amend's new ClOrdID) is kept in memory: after a restart an order is
    known by its original ClOrdID (its smart order id) again.
    """

    def __init__(self, peers: Mapping[str, Peer]) -> None:
        self._peers = peers
        self._cl_ord_ids: dict[str, str] = {}
        self._pending: dict[str, Pending] = {}

    def peer_of(self, order: SmartOrder) -> Peer | None:
        """The session an order was entered on, or None for orders from elsewhere."""
        if not order.origin.startswith(ORIGIN_PREFIX):
            return None
        return self._peers.get(order.origin.removeprefix(ORIGIN_PREFIX))

    def cl_ord_id(self, order_id: str) -> str:
        """The order's current ClOrdID (its id until amended)."""
        return self._cl_ord_ids.get(order_id, order_id)

    def find(self, cl_ord_id: str) -> str | None:
        """The smart order id a ClOrdID of its chain names, if one does."""
        for order_id, current in self._cl_ord_ids.items():
            if current == cl_ord_id:
                return order_id
        return None

    def expect(self, order_id: str, pending: Pending | None) -> None:
        """A cancel or amend of ``order_id`` is (or, with None, no longer is) in progress."""
        if pending is None:
            self._pending.pop(order_id, None)
        else:
            self._pending[order_id] = pending

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
            self._send(order, self._answer(order, ExecType.REPLACED, event.at))
        elif isinstance(event, StatusChanged) and event.status is OrderStatus.CANCELLED:
            self._send(order, self._answer(order, ExecType.CANCELED, event.at, event.info))
        elif isinstance(event, StatusChanged) and event.status in (
            OrderStatus.EXPIRED,
            OrderStatus.FAILED,
        ):
            report = self._report(order, ExecType.DONE_FOR_DAY, event.at)
            self._send(order, attrs.evolve(report, text=event.info))

    def _answer(
        self, order: SmartOrder, exec_type: str, at: datetime, text: str | None = None
    ) -> ParentReport:
        """A report answering the pending cancel or amend (if any): its ClOrdID from now on."""
        report = self._report(order, exec_type, at)
        pending = self._pending.pop(order.id, None)
        if pending is None:
            return attrs.evolve(report, text=text)
        self._cl_ord_ids[order.id] = pending.cl_ord_id
        return attrs.evolve(
            report,
            cl_ord_id=pending.cl_ord_id,
            orig_cl_ord_id=pending.orig_cl_ord_id,
            text=text,
        )

    def _report(self, order: SmartOrder, exec_type: str, at: datetime) -> ParentReport:
        filled = order.filled
        notional = sum((fill.quantity * fill.price for fill in order.fills), ZERO)
        return ParentReport(
            order_id=order.id,
            cl_ord_id=self.cl_ord_id(order.id),
            exec_type=exec_type,
            ord_status=ord_status(order),
            echo=Echo(order.params.symbol, order.params.side, order.amount),
            cum_qty=filled,
            leaves_qty=ZERO if order.status.terminal else max(order.amount - filled, ZERO),
            avg_px=notional / filled if filled else ZERO,
            at=at,
            algorithm=order.algorithm,
        )

    def _send(self, order: SmartOrder, report: ParentReport) -> None:
        peer = self.peer_of(order)
        if peer is None:
            return
        if not peer.send(execution_report(report)):
            log.warning(
                "parent report not stored or sent",
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
