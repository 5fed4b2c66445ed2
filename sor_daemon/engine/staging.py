"""A slice journaled ahead of its due time, and sent at it by the engine's one alarm task.

A runner plans and journals a slice ``slice_lead`` before it is due (``runner``). Waking every
runner again at the due time only to send its children cost each order a second turn of Trio's
scheduler and of its own loop per slice: 13% more of the daemon's CPU in the schedule benchmark.
So the staged slice rings on the engine's ``Alarms`` like an inbox does, and sends its children
right there, on the alarm task; the runner is not woken for it.

The runner takes a staged slice back (``withdraw``) when something changes the order before the
slice is due. While trading is halted a slice that comes due is not sent: it waits for its
runner to take it back, which the ``Halt`` already in that runner's inbox makes it do. A child
the session does not take is reported to the runner, through its inbox, as cancelled unsent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import structlog

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.values import ChildReport, ChildStatus
from sor_daemon.engine.ports import OrderGateway
from sor_daemon.engine.risk_gate import RiskGate
from sor_daemon.logs import debug_enabled

SESSION_DOWN = "the EMS session is down"
"""Why a child the session did not take was not sent."""


def send_children(
    gateway: OrderGateway, children: Iterable[ChildPlanned], log: structlog.BoundLogger
) -> list[ChildPlanned]:
    """Send journaled children in order; the ones the session did not take."""
    refused = []
    for child in children:
        sent = gateway.send_new(child)
        if not sent or debug_enabled():
            (log.debug if sent else log.warning)(
                "child order sent" if sent else "child order not sent",
                child_order_id=child.child_id,
                exchange=child.exchange,
                quantity=str(child.quantity),
                price=str(child.price),
            )
        if not sent:
            refused.append(child)
    return refused


def not_sent(child: ChildPlanned, why: str) -> ChildReport:
    """The report that ends a child that never left: cancelled, nothing filled."""
    return ChildReport(child.child_id, ChildStatus.CANCELED, Decimal(0), text=f"not sent: {why}")


class StagedSlice:
    """A slice's journaled children, sent when its alarm rings unless withdrawn before."""

    __slots__ = ("_children", "_gateway", "_log", "_report", "_risk")

    def __init__(
        self,
        children: tuple[ChildPlanned, ...],
        gateway: OrderGateway,
        risk: RiskGate,
        report: Callable[[ChildReport], None],
        log: structlog.BoundLogger,
    ) -> None:
        self._children = children
        self._gateway = gateway
        self._risk = risk
        self._report = report
        """Hands a report to the slice's runner (its inbox's ``put``)."""
        self._log = log

    def withdraw(self) -> tuple[ChildPlanned, ...]:
        """Take the slice back: the children not sent yet (none once it was sent)."""
        children, self._children = self._children, ()
        return children

    def ring(self, alarm_at: float, now: float) -> None:
        """The slice is due: send its children, unless trading is halted (then its runner takes
        it back). Children the session does not take are reported to the runner as unsent."""
        if self._risk.halted is not None:
            return
        for child in send_children(self._gateway, self.withdraw(), self._log):
            self._report(not_sent(child, SESSION_DOWN))
