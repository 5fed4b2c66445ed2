"""CoinAPI's EMS FIX 4.4 dialect, seen from the EMS: requests in, reports out.

``parse_*`` turn a request into a frozen value inside the callback, read from the message's text
(one call into quickfix, ``FlatFields``), so no quickfix object outlives the callback. ``encode``
writes an outbound value as FIX text (``FixText``), and quickfix parses it in one call. Either
way, a ``getField`` or ``setField`` a field gave up the GIL and took it back each time, so the
thread sending reports and the threads reading requests waited on each other once a field.
Every field written is one the dialect's data dictionary allows in that message, so a
validating client accepts it. Decimals are written plainly (no exponent, no float noise);
times as FIX UTCTimestamps in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import quickfix as fix

from sor_daemon.fix.dialect import FlatFields, framed_message, parse_timestamp
from sor_daemon.sim.orders import (
    CancelReject,
    CancelRequest,
    ExecutionReport,
    MassCancelReport,
    MassCancelRequest,
    NewOrderRequest,
    Outbound,
    StatusRequest,
)

NEW_ORDER_SINGLE = "D"
ORDER_CANCEL_REQUEST = "F"
ORDER_MASS_CANCEL_REQUEST = "q"
ORDER_STATUS_REQUEST = "H"

_LIMIT = "2"
_CANCEL_REQUEST = "1"
_TOO_LATE_TO_CANCEL = "0"
_UNKNOWN_ORDER = "1"
_MASS_CANCEL_REJECTED = "0"
_MASS_CANCEL_OTHER_REASON = "99"


def parse_new_order(fields: FlatFields) -> NewOrderRequest:
    """A NewOrderSingle (35=D) as the dialect sends it."""
    expire = fields.get(126)
    return NewOrderRequest(
        client_order_id=_required(fields, 11),
        exchange=fields.get(100) or fields.get(207),
        security_id=fields.get(48),
        security_id_source=fields.get(22),
        symbol=fields.get(55),
        ord_type=fields.get(40),
        side=_required(fields, 54),
        price=fields.get(44),
        quantity=fields.get(38),
        time_in_force=fields.get(59),
        expire_time=parse_timestamp(expire, 126) if expire is not None else None,
    )


def parse_cancel(fields: FlatFields) -> CancelRequest:
    """An OrderCancelRequest (35=F): 41 and/or 37 name the order, 207 its venue."""
    return CancelRequest(
        request_id=_required(fields, 11),
        orig_client_order_id=fields.get(41),
        order_id=fields.get(37),
        exchange=fields.get(207),
        side=fields.get(54),
    )


def parse_mass_cancel(fields: FlatFields) -> MassCancelRequest:
    """An OrderMassCancelRequest (35=q)."""
    return MassCancelRequest(
        request_id=_required(fields, 11),
        request_type=_required(fields, 530),
        exchange=fields.get(207),
    )


def parse_status(fields: FlatFields) -> StatusRequest:
    """An OrderStatusRequest (35=H): 11 and/or 37 name the order."""
    return StatusRequest(
        client_order_id=fields.get(11),
        order_id=fields.get(37),
        exchange=fields.get(207),
        side=fields.get(54),
        status_request_id=fields.get(790),
    )


def encode(item: Outbound, *, lean: bool) -> fix.Message:
    """The FIX message of an outbound value; ``lean`` leaves out 31, 32 and 6 of reports."""
    if isinstance(item, ExecutionReport):
        return _execution_report(item, lean=lean)
    if isinstance(item, CancelReject):
        return _cancel_reject(item)
    return _mass_cancel_report(item)


def plain(number: Decimal) -> str:
    """``60000.5``, ``0.001``, ``100``: a decimal without exponent or trailing zeros."""
    return format(number.normalize(), "f")


def format_timestamp(moment: datetime) -> str:
    """A FIX UTCTimestamp with milliseconds: ``20240724-09:42:14.906``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y%m%d-%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


def _execution_report(report: ExecutionReport, *, lean: bool) -> fix.Message:
    fields = FixText("8")
    fields.add(37, report.client_order_id)
    fields.add(11, report.request_id)
    fields.add(41, report.orig_client_order_id)
    fields.add(198, report.exchange_order_id)
    fields.add(17, report.exec_id)
    fields.add(150, report.exec_type.value)
    fields.add(39, report.status.value)
    fields.add(103, report.reject_reason.value if report.reject_reason else None)
    if report.security_id is not None:
        fields.add(48, report.security_id)
        fields.add(22, report.security_id_source)
    fields.add(55, report.symbol)
    fields.add(207, report.exchange)
    fields.add(54, report.side)
    fields.add(38, _number(report.quantity))
    fields.add(40, _LIMIT)
    fields.add(44, _number(report.price))
    fields.add(59, report.time_in_force)
    fields.add(126, format_timestamp(report.expire_time) if report.expire_time else None)
    fields.add(14, plain(report.cum_qty))
    fields.add(151, plain(report.leaves_qty))
    if not lean:
        fields.add(6, plain(report.avg_px))
        fields.add(32, _number(report.last_qty))
        fields.add(31, _number(report.last_px))
    fields.add(60, format_timestamp(report.transact_time))
    fields.add(58, report.text)
    fields.add(790, report.status_request_id)
    return fields.message()


def _cancel_reject(reject: CancelReject) -> fix.Message:
    fields = FixText("9")
    fields.add(37, reject.order_id)
    fields.add(11, reject.request_id)
    fields.add(41, reject.orig_client_order_id)
    fields.add(39, reject.status.value)
    fields.add(434, _CANCEL_REQUEST)
    fields.add(102, _TOO_LATE_TO_CANCEL if reject.too_late else _UNKNOWN_ORDER)
    fields.add(58, reject.text)
    fields.add(60, format_timestamp(reject.transact_time))
    return fields.message()


def _mass_cancel_report(report: MassCancelReport) -> fix.Message:
    fields = FixText("r")
    fields.add(11, report.request_id)
    fields.add(37, report.request_id)
    fields.add(530, report.request_type)
    fields.add(531, report.request_type if report.accepted else _MASS_CANCEL_REJECTED)
    if not report.accepted:
        fields.add(532, _MASS_CANCEL_OTHER_REASON)
    fields.add(533, str(report.affected))
    fields.add(207, report.exchange)
    fields.add(60, format_timestamp(report.transact_time))
    fields.add(58, report.text)
    return fields.message()


class FixText:
    """A message's fields written as FIX text, in the order added; a None value is left out."""

    def __init__(self, msg_type: str) -> None:
        self._text = [f"35={msg_type}\x01"]

    def add(self, tag: int, value: str | None) -> None:
        """Write ``tag`` with ``value`` next, unless the value is None."""
        if value is not None:
            self._text.append(f"{tag}={value}\x01")

    def message(self, dictionary: fix.DataDictionary | None = None) -> fix.Message:
        """quickfix's message of the text; see ``framed_message`` for ``dictionary``."""
        return framed_message("".join(self._text), dictionary)


def _number(number: Decimal | None) -> str | None:
    return plain(number) if number is not None else None


def _required(fields: FlatFields, tag: int) -> str:
    """The value of a tag the message must carry; quickfix's FieldNotFound (which the session
    answers with a reject) when it does not. The dictionary has checked, so this is a guard."""
    value = fields.get(tag)
    if value is None:
        raise fix.FieldNotFound(tag)
    return value
