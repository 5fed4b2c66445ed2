"""Orders as the simulated EMS keeps them, and the values it answers with.

The enums carry their FIX 4.4 codes as values, since the dialect is FIX; ``ems_name`` gives the
names CoinAPI's EMS REST model uses. ``SimOrder`` is the only mutable object: the exchange
changes it under its lock and hands out frozen ``ExecutionReport`` snapshots.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import attrs

from sor_daemon.domain.instruments import Instrument

AVG_PX_QUANTUM = Decimal("1e-10")


class Side(enum.StrEnum):
    BUY = "1"
    SELL = "2"

    @property
    def ems_name(self) -> str:
        return self.name


class TimeInForce(enum.StrEnum):
    GOOD_TILL_CANCEL = "1"
    IMMEDIATE_OR_CANCEL = "3"
    FILL_OR_KILL = "4"
    GOOD_TILL_DATE = "6"

    @property
    def ems_name(self) -> str:
        """CoinAPI's name; a GTD order expires at the venue, hence GOOD_TILL_TIME_EXCHANGE."""
        if self is TimeInForce.GOOD_TILL_DATE:
            return "GOOD_TILL_TIME_EXCHANGE"
        return self.name

    @property
    def rests(self) -> bool:
        """True when the unfilled rest of the order waits in the book."""
        return self in (TimeInForce.GOOD_TILL_CANCEL, TimeInForce.GOOD_TILL_DATE)


class OrderStatus(enum.StrEnum):
    """OrdStatus (39)."""

    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    CANCELED = "4"
    REJECTED = "8"
    EXPIRED = "C"

    @property
    def ems_name(self) -> str:
        """CoinAPI's EMS status; it has no EXPIRED, an expired order shows as CANCELED."""
        if self is OrderStatus.EXPIRED:
            return "CANCELED"
        return self.name

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class ExecType(enum.StrEnum):
    """ExecType (150)."""

    NEW = "0"
    CANCELED = "4"
    REJECTED = "8"
    EXPIRED = "C"
    TRADE = "F"
    ORDER_STATUS = "I"


class RejectReason(enum.StrEnum):
    """OrdRejReason (103), the FIX 4.4 values the simulator uses."""

    UNKNOWN_SYMBOL = "1"
    ORDER_EXCEEDS_LIMIT = "3"
    UNKNOWN_ORDER = "5"
    DUPLICATE_ORDER = "6"
    UNSUPPORTED_ORDER_CHARACTERISTIC = "11"
    INCORRECT_QUANTITY = "13"
    OTHER = "99"


@attrs.frozen
class Fill:
    """One execution: a quantity at a price, at a time."""

    time: datetime
    price: Decimal
    quantity: Decimal


@attrs.define
class SimOrder:
    """An accepted order and everything that happened to it.

    ``security_id`` and ``security_id_source`` are what the client sent (tags 48 and 22), so
    reports echo the client's own way of naming the instrument.
    """

    client_order_id: str
    exchange_order_id: str
    instrument: Instrument
    security_id: str
    security_id_source: str | None
    side: Side
    price: Decimal
    quantity: Decimal
    time_in_force: TimeInForce
    expire_time: datetime | None
    status: OrderStatus = OrderStatus.NEW
    cum_qty: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    fills: list[Fill] = attrs.field(factory=list)
    history: list[tuple[str, datetime]] = attrs.field(factory=list)
    text: str | None = None

    @property
    def leaves_qty(self) -> Decimal:
        """What is still to fill; zero once the order is finished."""
        return self.quantity - self.cum_qty if self.status.is_open else Decimal(0)

    @property
    def avg_px(self) -> Decimal:
        """The quantity-weighted price of every fill, zero before the first."""
        if not self.cum_qty:
            return Decimal(0)
        return (self.notional / self.cum_qty).quantize(AVG_PX_QUANTUM).normalize()

    def add_fill(self, fill: Fill) -> None:
        """Book a fill and move the status to PARTIALLY_FILLED or FILLED."""
        self.fills.append(fill)
        self.cum_qty += fill.quantity
        self.notional += fill.price * fill.quantity
        status = (
            OrderStatus.FILLED if self.cum_qty >= self.quantity else OrderStatus.PARTIALLY_FILLED
        )
        self.set_status(status, fill.time)

    def set_status(self, status: OrderStatus, now: datetime) -> None:
        """Change the status and remember when, as the EMS's ``status_history`` does."""
        if not self.history or self.history[-1][0] != status.ems_name:
            self.history.append((status.ems_name, now))
        self.status = status


@attrs.frozen
class NewOrderRequest:
    """A NewOrderSingle as the client sent it; the exchange validates every field."""

    client_order_id: str
    exchange: str | None
    security_id: str | None
    security_id_source: str | None
    symbol: str | None
    ord_type: str | None
    side: str
    price: str | None
    quantity: str | None
    time_in_force: str | None
    expire_time: datetime | None


@attrs.frozen
class CancelRequest:
    """An OrderCancelRequest: the cancel's own id and the order it names."""

    request_id: str
    orig_client_order_id: str | None
    order_id: str | None
    exchange: str | None
    side: str | None


@attrs.frozen
class MassCancelRequest:
    """An OrderMassCancelRequest; only type 7 (all orders) is supported."""

    request_id: str
    request_type: str
    exchange: str | None


@attrs.frozen
class StatusRequest:
    """An OrderStatusRequest: the order by ClOrdID and/or OrderID."""

    client_order_id: str | None
    order_id: str | None
    exchange: str | None
    side: str | None
    status_request_id: str | None


@attrs.frozen
class ExecutionReport:
    """One ExecutionReport (35=8).

    ``client_order_id`` is tag 37 (the dialect's OrderID is the client's id); ``request_id`` is
    tag 11 (the order's own id, or the cancel's id when a cancel caused the report), and
    ``orig_client_order_id`` is tag 41 when it differs.
    """

    exec_id: str
    exec_type: ExecType
    status: OrderStatus
    client_order_id: str
    request_id: str
    orig_client_order_id: str | None
    exchange_order_id: str | None
    exchange: str | None
    security_id: str | None
    security_id_source: str | None
    symbol: str | None
    side: str
    quantity: Decimal | None
    price: Decimal | None
    time_in_force: str | None
    expire_time: datetime | None
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    last_qty: Decimal | None
    last_px: Decimal | None
    transact_time: datetime
    text: str | None = None
    reject_reason: RejectReason | None = None
    status_request_id: str | None = None


@attrs.frozen
class CancelReject:
    """An OrderCancelReject (35=9) answering an OrderCancelRequest."""

    request_id: str
    orig_client_order_id: str
    order_id: str
    status: OrderStatus
    too_late: bool
    text: str
    transact_time: datetime


@attrs.frozen
class MassCancelReport:
    """An OrderMassCancelReport (35=r); ``accepted`` False rejects the whole request."""

    request_id: str
    request_type: str
    accepted: bool
    affected: int
    exchange: str | None
    text: str | None
    transact_time: datetime


Outbound = ExecutionReport | CancelReject | MassCancelReport
