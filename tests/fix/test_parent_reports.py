"""ParentReporter over real smart orders: each journaled event an order applies becomes the
parent-level ExecutionReport its FIX client must see, on that client's session only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest
import quickfix as fix

from sor_daemon.domain.events import (
    ChildPlanned,
    ChildReported,
    Event,
    OrderAccepted,
    ParametersChanged,
    StatusChanged,
)
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import ChildStatus, OrderStatus
from sor_daemon.fix.parent_dialect import Peer
from sor_daemon.fix.parent_reports import ParentReporter
from sor_daemon.protocol.messages import Side
from tests.sim.fix_client import Fields, parse
from tests.support.orders import START, params

LATER = START + timedelta(seconds=1)


@attrs.define
class Wire:
    """A transport that keeps what it is given, by the session it is sent on."""

    sent: list[tuple[str, Fields]] = attrs.Factory(list)
    takes: bool = True

    def __call__(self, message: fix.Message, session_id: fix.SessionID) -> bool:
        self.sent.append((session_id.toString(), parse(message.toString())))
        return self.takes

    def reports(self) -> list[Fields]:
        return [fields for _, fields in self.sent]


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def reporter(wire: Wire) -> ParentReporter:
    return ParentReporter({"DESK1": Peer("SOR", "DESK1"), "DESK2": Peer("SOR", "DESK2")}, wire)


def accepted(origin: str = "fix:DESK1", amount: str = "2") -> SmartOrder:
    event = OrderAccepted("d-1", "TWAP", ("DERIBIT",), params(amount=amount), START, origin)
    return SmartOrder.accept(event)


def record(reporter: ParentReporter, order: SmartOrder, event: Event) -> None:
    """What the runner does with a journaled event: apply it, then tell the observer."""
    reporter(order, event, order.apply(event))


def child(order: SmartOrder, number: int, quantity: str) -> ChildPlanned:
    return ChildPlanned(
        order.id,
        f"{order.id}-{number}",
        number,
        "DERIBIT",
        "DERIBIT_PERP_BTC_USD",
        "BTC-PERPETUAL",
        Side.BUY,
        Decimal(quantity),
        Decimal(110),
        START,
    )


def filled(order: SmartOrder, number: int, cum_qty: str, price: str) -> ChildReported:
    return ChildReported(
        order.id,
        f"{order.id}-{number}",
        ChildStatus.FILLED,
        Decimal(cum_qty),
        Decimal(price),
        Decimal(cum_qty),
        Decimal(price),
        None,
        LATER,
    )


def test_new_then_trades_carry_the_totals_across_children(
    reporter: ParentReporter, wire: Wire
) -> None:
    order = accepted()
    reporter.report_new(order, START)
    for number, quantity in ((1, "0.5"), (2, "1"), (3, "0.5")):
        record(reporter, order, child(order, number, quantity))
    record(reporter, order, filled(order, 1, "0.5", "100"))
    record(reporter, order, filled(order, 2, "1", "103"))
    record(reporter, order, filled(order, 3, "0.5", "106"))
    record(reporter, order, StatusChanged(order.id, OrderStatus.COMPLETED, None, LATER))
    assert {session for session, _ in wire.sent} == {"FIX.4.4:SOR->DESK1"}
    new, *trades = wire.reports()
    assert (new[150], new[39], new[37], new[11], new[847]) == ("0", "0", "d-1", "d-1", "1001")
    assert (new[38], new[14], new[151], new[6]) == ("2", "0", "2", "0")
    assert [(t[150], t[39], t[32], t[31]) for t in trades] == [
        ("F", "1", "0.5", "100"),
        ("F", "1", "1", "103"),
        ("F", "2", "0.5", "106"),
    ]
    assert [(t[14], t[151], t[6]) for t in trades] == [
        ("0.5", "1.5", "100"),
        ("1.5", "0.5", "102"),
        ("2", "0", "103"),
    ]


def test_amends_and_a_cancel_follow_the_cl_ord_id_chain(
    reporter: ParentReporter, wire: Wire
) -> None:
    order = accepted()
    for amount, client_ref in (("3", "g-1"), ("4", "g-2"), ("5", None)):
        change = ParametersChanged(order.id, params(amount=amount), 0, LATER, client_ref)
        record(reporter, order, change)
    record(reporter, order, child(order, 1, "1"))
    record(reporter, order, filled(order, 1, "1", "100"))
    cancel = StatusChanged(order.id, OrderStatus.CANCELLED, "User requested cancel", LATER, "f-1")
    record(reporter, order, cancel)
    first, second, by_rest, trade, canceled = wire.reports()
    assert (first[150], first[11], first[41], first[38]) == ("5", "g-1", "d-1", "3")
    assert (second[150], second[11], second[41], second[38]) == ("5", "g-2", "g-1", "4")
    assert (by_rest[150], by_rest[11], by_rest[38]) == ("5", "g-2", "5")
    assert 41 not in by_rest  # amended over REST: no request of the client's to answer
    assert (trade[150], trade[11]) == ("F", "g-2")
    assert (canceled[150], canceled[39], canceled[11], canceled[41]) == ("4", "4", "f-1", "g-2")
    assert (canceled[14], canceled[151], canceled[58]) == ("1", "0", "User requested cancel")


def test_a_cancel_from_elsewhere_keeps_the_current_cl_ord_id(
    reporter: ParentReporter, wire: Wire
) -> None:
    order = accepted()
    record(reporter, order, ParametersChanged(order.id, params(amount="3"), 0, LATER, "g-1"))
    record(reporter, order, StatusChanged(order.id, OrderStatus.CANCELLED, "risk desk", LATER))
    canceled = wire.reports()[-1]
    assert (canceled[150], canceled[11], canceled[58]) == ("4", "g-1", "risk desk")
    assert 41 not in canceled


@pytest.mark.parametrize("status", [OrderStatus.EXPIRED, OrderStatus.FAILED])
def test_an_order_ending_unfilled_is_done_for_day_with_the_reason(
    reporter: ParentReporter, wire: Wire, status: OrderStatus
) -> None:
    order = accepted()
    record(reporter, order, child(order, 1, "0.5"))
    record(reporter, order, filled(order, 1, "0.5", "100"))
    record(reporter, order, StatusChanged(order.id, status, "the schedule ended", LATER))
    done = wire.reports()[-1]
    assert (done[150], done[39], done[14], done[151]) == ("3", "3", "0.5", "0")
    assert done[58] == "the schedule ended"


def test_status_info_alone_is_not_reported(reporter: ParentReporter, wire: Wire) -> None:
    order = accepted()
    record(reporter, order, StatusChanged(order.id, OrderStatus.RUNNING, "paused", LATER))
    assert wire.sent == []


@pytest.mark.parametrize("origin", ["api", "ws:key-1", "fix:UNKNOWN"])
def test_orders_of_other_origins_are_not_reported(
    reporter: ParentReporter, wire: Wire, origin: str
) -> None:
    order = accepted(origin)
    reporter.report_new(order, START)
    record(reporter, order, child(order, 1, "1"))
    record(reporter, order, filled(order, 1, "1", "100"))
    record(reporter, order, StatusChanged(order.id, OrderStatus.CANCELLED, "stop", LATER, "f-1"))
    assert reporter.peer_of(order) is None
    assert wire.sent == []


def test_each_order_is_reported_on_its_own_session(reporter: ParentReporter, wire: Wire) -> None:
    reporter.report_new(accepted("fix:DESK2"), START)
    reporter.report_new(accepted("fix:DESK1"), START)
    assert [session for session, _ in wire.sent] == ["FIX.4.4:SOR->DESK2", "FIX.4.4:SOR->DESK1"]


def test_a_report_quickfix_does_not_take_is_logged_not_raised() -> None:
    wire = Wire(takes=False)
    reporter = ParentReporter({"DESK1": Peer("SOR", "DESK1")}, wire)
    reporter.report_new(accepted(), START)
    assert len(wire.sent) == 1
