"""FIX order entry's dialect: parent orders in (35=D, F, G) as values, reports out (35=8, 9, j).

Institutions send smart orders as NewOrderSingle with the algorithm in TargetStrategy (847: 1 is
VWAP, FIX's own value; 1001 is TWAP, ours, in the >= 1000 range FIX leaves to bilateral use)
and its parameters in StrategyParametersGrp (957-960). The readers here run on quickfix's
thread, so they never keep the message and never raise: what cannot be read becomes a
``Refused`` value whose text says what to send instead. A NewOrderSingle is checked with the
very codec the WebSocket uses (``parse_add_body``), so both edges accept and refuse alike.
OrdType (40) is 1 (Market: the router prices every child) or 2 (Limit: Price (44) is the
order's limit price, which no child goes beyond); a 35=G may set or move the limit the same way.

The builders take plain values; ``parent_reports`` decides what to report.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import quickfix as fix

from sor_daemon.fix.dialect import (
    FIX_SIDE,
    Tag,
    field_decimal,
    field_text,
    new_message,
    parse_timestamp,
    timestamp,
)
from sor_daemon.protocol.codec import parse_add_body
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import NewSmartOrder, Side

STRATEGIES = {"1": "VWAP", "1001": "TWAP"}
"""TargetStrategy (847) values and the algorithm each selects."""
STRATEGY_CODES = {name: code for code, name in STRATEGIES.items()}
PARAMETERS = ("Duration", "Interval", "SafetyThreshold", "Exchanges", "SymbolType")
"""StrategyParameterName (958) values accepted (in any case)."""
ORD_TYPE_MARKET = "1"
ORD_TYPE_LIMIT = "2"
SIDES = {code: side for side, code in FIX_SIDE.items()}
NO_ORDER_ID = "NONE"


class Field:
    """Tags of order entry that the EMS dialect's ``Tag`` does not name."""

    REF_SEQ_NUM = 45
    MSG_SEQ_NUM = 34
    LEAVES_QTY = 151
    CXL_REJ_REASON = 102
    EXPIRE_TIME = 126
    SECURITY_TYPE = 167
    EFFECTIVE_TIME = 168
    REF_MSG_TYPE = 372
    BUSINESS_REJECT_REASON = 380
    CXL_REJ_RESPONSE_TO = 434
    TARGET_STRATEGY = 847
    NO_STRATEGY_PARAMETERS = 957
    STRATEGY_PARAMETER_NAME = 958
    STRATEGY_PARAMETER_VALUE = 960


class ExecType:
    """ExecType (150) values of parent reports."""

    NEW = "0"
    DONE_FOR_DAY = "3"
    CANCELED = "4"
    REPLACED = "5"
    REJECTED = "8"
    TRADE = "F"


class OrdStatus:
    """OrdStatus (39) values of parent reports."""

    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    DONE_FOR_DAY = "3"
    CANCELED = "4"
    REJECTED = "8"


CXL_TOO_LATE = "0"
CXL_UNKNOWN_ORDER = "1"
CXL_OTHER = "99"
BUSINESS_REJECT_UNSUPPORTED_TYPE = "3"


@attrs.frozen
class Peer:
    """One order-entry session: our CompID and the client's, read from the message header."""

    ours: str
    theirs: str

    @property
    def origin(self) -> str:
        """The origin of the smart orders this client enters (``fix:<its CompID>``)."""
        return f"fix:{self.theirs}"

    @property
    def session_id(self) -> fix.SessionID:
        """The quickfix session this client is on."""
        return fix.SessionID("FIX.4.4", self.ours, self.theirs)


@attrs.frozen
class Echo:
    """What a report repeats of the request it answers (the instrument, side and quantity, and
    the limit price of a limit order)."""

    symbol: str = "[N/A]"
    side: Side = Side.BUY
    order_qty: Decimal = Decimal(0)
    limit_price: Decimal | None = None


@attrs.frozen
class NewParent:
    """A NewOrderSingle that reads as a valid smart order."""

    peer: Peer
    cl_ord_id: str
    order: NewSmartOrder
    echo: Echo


@attrs.frozen
class Refused:
    """A NewOrderSingle that cannot become a smart order: answer 35=8 Rejected with ``text``."""

    peer: Peer
    cl_ord_id: str
    echo: Echo
    text: str


@attrs.frozen
class CancelParent:
    """An OrderCancelRequest (35=F): ``orig_cl_ord_id`` (41) or ``order_id`` (37) names it."""

    peer: Peer
    cl_ord_id: str
    orig_cl_ord_id: str
    order_id: str | None


@attrs.frozen
class AmendParent:
    """An OrderCancelReplaceRequest (35=G): the new OrderQty and schedule parameters, if any.

    ``expire_time`` is turned into a duration against the order's start by whoever knows it.
    ``ord_type`` is its OrdType (40), and ``limit_price`` its Price (44) when that is 2 (Limit).
    ``error`` is set when the request cannot be read.
    """

    peer: Peer
    cl_ord_id: str
    orig_cl_ord_id: str
    order_id: str | None
    order_qty: Decimal | None = None
    parameters: Mapping[str, str] = attrs.Factory(dict)
    expire_time: datetime | None = None
    ord_type: str | None = None
    limit_price: Decimal | None = None
    error: str | None = None


@attrs.frozen
class Unsupported:
    """An application message order entry does not take: answer 35=j."""

    peer: Peer
    msg_type: str
    ref_seq_num: str | None


Request = NewParent | Refused | CancelParent | AmendParent | Unsupported


@attrs.frozen
class ParentReport:
    """One parent-level ExecutionReport, free of FIX."""

    order_id: str
    cl_ord_id: str
    exec_type: str
    ord_status: str
    echo: Echo
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    at: datetime
    orig_cl_ord_id: str | None = None
    last_qty: Decimal | None = None
    last_px: Decimal | None = None
    text: str | None = None
    algorithm: str | None = None


# --- reading ------------------------------------------------------------------------------------


def read_request(message: fix.Message) -> Request:
    """The request a message carries; never raises for a message quickfix has validated."""
    header = message.getHeader()
    peer = Peer(ours=header.getField(56), theirs=header.getField(49))
    msg_type = header.getField(Tag.MSG_TYPE)
    if msg_type == "D":
        return _new_parent(message, peer)
    cl_ord_id = field_text(message, Tag.CL_ORD_ID)
    orig = field_text(message, Tag.ORIG_CL_ORD_ID)
    if msg_type in ("F", "G") and cl_ord_id is not None and orig is not None:
        order_id = field_text(message, Tag.ORDER_ID)
        if msg_type == "F":
            return CancelParent(peer, cl_ord_id, orig, order_id)
        return _amend(message, AmendParent(peer, cl_ord_id, orig, order_id))
    return Unsupported(peer, msg_type, field_text(header, Field.MSG_SEQ_NUM))


def _echo(message: fix.Message) -> Echo:
    try:
        quantity = field_decimal(message, Tag.ORDER_QTY) or Decimal(0)
    except ValueError:
        quantity = Decimal(0)
    side = SIDES.get(field_text(message, Tag.SIDE) or "", Side.BUY)
    try:
        price = _limit_price(message)
    except ProtocolError:
        price = None
    return Echo(field_text(message, Tag.SYMBOL) or "[N/A]", side, quantity, price)


def _new_parent(message: fix.Message, peer: Peer) -> NewParent | Refused:
    cl_ord_id = field_text(message, Tag.CL_ORD_ID) or ""
    echo = _echo(message)
    try:
        order = parse_add_body(_add_body(message, cl_ord_id))
    except ProtocolError as error:
        return Refused(peer, cl_ord_id, echo, error.message)
    except Exception as error:  # a reader bug must still be answered, never dropped
        return Refused(peer, cl_ord_id, echo, f"the order cannot be read: {error}")
    return NewParent(peer, cl_ord_id, order, echo)


def _refuse(text: str) -> ProtocolError:
    return ProtocolError("INVALID_PARAMETER", text)


def _add_body(message: fix.Message, cl_ord_id: str) -> dict[str, object]:
    """The NewOrderSingle in the shape of a POST /add body, for the shared codec to check."""
    strategy = field_text(message, Field.TARGET_STRATEGY)
    if strategy is None:
        raise _refuse("TargetStrategy (847) is required: 1 for VWAP or 1001 for TWAP")
    algorithm = STRATEGIES.get(strategy)
    if algorithm is None:
        raise _refuse(f"TargetStrategy (847) {strategy} is not offered: 1 VWAP or 1001 TWAP")
    limit_price = _limit_price(message)
    side_code = field_text(message, Tag.SIDE)
    if side_code not in SIDES:
        raise _refuse(f"Side (54) {side_code} is not accepted: 1 buy or 2 sell")
    quantity = field_text(message, Tag.ORDER_QTY)
    if quantity is None:
        raise _refuse("OrderQty (38) is required: the amount to trade")
    parameters = strategy_parameters(message)
    exchanges = _exchanges(message, parameters)
    symbol_type = parameters.get("SymbolType") or field_text(message, Field.SECURITY_TYPE)
    if symbol_type is None:
        raise _refuse(
            "the symbol type is required: SecurityType (167) or the SymbolType parameter, "
            "e.g. spot or perpetual"
        )
    body: dict[str, object] = {
        "side": SIDES[side_code].value,
        "symbol": field_text(message, Tag.SYMBOL),
        "symbol_type": symbol_type,
        "amount": quantity,
        "duration": parameters.get("Duration") or _duration_until_expiry(message),
        "interval": parameters.get("Interval"),
    }
    if "SafetyThreshold" in parameters:
        body["safety_threshold"] = parameters["SafetyThreshold"]
    if limit_price is not None:
        body["limit_price"] = f"{limit_price:f}"
    missing = [name for name in ("duration", "interval") if body[name] is None]
    if missing:
        raise _refuse(
            f"the {' and '.join(missing)} parameter is required: Duration (or ExpireTime 126) "
            "and Interval, as periods like 1MIN or 5SEC"
        )
    return {"id": cl_ord_id, "algorithm": algorithm, "exchanges": exchanges, "parameters": body}


def _limit_price(message: fix.Message) -> Decimal | None:
    """The limit price of a limit order (OrdType 2 with Price 44), None for a market order;
    ProtocolError for another OrdType, a Price on a market order or a limit without one."""
    ord_type = field_text(message, Tag.ORD_TYPE)
    try:
        price = field_decimal(message, Tag.PRICE)
    except ValueError:
        raise _refuse(f"Price (44) {field_text(message, Tag.PRICE)!r} is not a number") from None
    if ord_type == ORD_TYPE_MARKET:
        if message.isSetField(Tag.PRICE):
            raise _refuse(
                "Price (44) is only for OrdType (40) 2 (Limit): leave it out of a market order"
            )
        return None
    if ord_type != ORD_TYPE_LIMIT:
        raise _refuse(
            f"OrdType (40) {ord_type} is not accepted: send 1 (Market), or 2 (Limit) with "
            "Price (44); the router prices every child order itself"
        )
    if price is None:
        raise _refuse("Price (44) is required with OrdType (40) 2 (Limit): the limit price")
    if price <= 0:
        raise _refuse(f"Price (44) must be greater than 0, got {field_text(message, Tag.PRICE)}")
    return price


def strategy_parameters(message: fix.Message) -> dict[str, str]:
    """StrategyParametersGrp as ``{canonical name: value}``; ProtocolError for an unknown or
    repeated name."""
    count = field_text(message, Field.NO_STRATEGY_PARAMETERS)
    found: dict[str, str] = {}
    canonical = {name.lower(): name for name in PARAMETERS}
    for index in range(1, int(count or 0) + 1):
        group = fix.Group(Field.NO_STRATEGY_PARAMETERS, Field.STRATEGY_PARAMETER_NAME)
        message.getGroup(index, group)
        raw = field_text(group, Field.STRATEGY_PARAMETER_NAME) or ""
        name = canonical.get(raw.strip().lower())
        if name is None:
            raise _refuse(
                f"strategy parameter {raw!r} is unknown; accepted: {', '.join(PARAMETERS)}"
            )
        if name in found:
            raise _refuse(f"strategy parameter {name} is given twice")
        value = field_text(group, Field.STRATEGY_PARAMETER_VALUE)
        if not value:
            raise _refuse(f"strategy parameter {name} has no StrategyParameterValue (960)")
        found[name] = value.strip()
    return found


def _exchanges(message: fix.Message, parameters: Mapping[str, str]) -> list[str]:
    destination = field_text(message, Tag.EX_DESTINATION)
    listed = parameters.get("Exchanges")
    if destination is not None and listed is not None:
        raise _refuse("give the venues in ExDestination (100) or the Exchanges parameter, not both")
    if destination is None and listed is None:
        raise _refuse("the venues are required: ExDestination (100) or the Exchanges parameter")
    text = destination if destination is not None else listed
    return [name.strip() for name in (text or "").split(",")]


def _duration_until_expiry(message: fix.Message) -> str | None:
    """The duration from now to ExpireTime (126), in whole seconds; None without one.

    Orders start when accepted: an EffectiveTime (168) in the future is refused."""
    expire = field_text(message, Field.EXPIRE_TIME)
    if expire is None:
        return None
    now = datetime.now(UTC)
    effective = field_text(message, Field.EFFECTIVE_TIME)
    if effective is not None and (parse_timestamp(effective, 168) - now).total_seconds() > 1:
        raise _refuse("EffectiveTime (168) is in the future: orders start when they are accepted")
    end = parse_timestamp(expire, 126)
    if (end - now).total_seconds() < 1:
        raise _refuse(f"ExpireTime (126) {expire} is not in the future")
    return duration_text(now, end)


def _amend(message: fix.Message, request: AmendParent) -> AmendParent:
    try:
        parameters = strategy_parameters(message)
        for name in ("Exchanges", "SymbolType"):
            if name in parameters:
                raise _refuse(f"the {name} parameter cannot be amended")
        if "Duration" in parameters and message.isSetField(Field.EXPIRE_TIME):
            raise _refuse("give Duration or ExpireTime (126), not both")
        expire = field_text(message, Field.EXPIRE_TIME)
        return attrs.evolve(
            request,
            order_qty=field_decimal(message, Tag.ORDER_QTY),
            parameters=parameters,
            expire_time=parse_timestamp(expire, 126) if expire else None,
            ord_type=field_text(message, Tag.ORD_TYPE),
            limit_price=_limit_price(message),
        )
    except ProtocolError as error:
        return attrs.evolve(request, error=error.message)
    except Exception as error:  # a reader bug must still be answered, never dropped
        return attrs.evolve(request, error=f"the request cannot be read: {error}")


def duration_text(start: datetime, end: datetime) -> str:
    """The period from ``start`` to ``end`` in CoinAPI's notation: whole seconds, or whole
    minutes beyond what a period's six digits of seconds can hold."""
    seconds = max(int((end - start).total_seconds()), 1)
    return f"{seconds}SEC" if seconds < 10**6 else f"{seconds // 60}MIN"


# --- building -----------------------------------------------------------------------------------


def execution_report(report: ParentReport) -> fix.Message:
    """The ExecutionReport (35=8) of a parent order."""
    message = new_message("8")
    message.setField(Tag.ORDER_ID, report.order_id)
    message.setField(Tag.CL_ORD_ID, report.cl_ord_id)
    if report.orig_cl_ord_id is not None:
        message.setField(Tag.ORIG_CL_ORD_ID, report.orig_cl_ord_id)
    message.setField(Tag.EXEC_ID, uuid.uuid4().hex)
    message.setField(Tag.EXEC_TYPE, report.exec_type)
    message.setField(Tag.ORD_STATUS, report.ord_status)
    message.setField(Tag.SYMBOL, report.echo.symbol)
    message.setField(Tag.SIDE, FIX_SIDE[report.echo.side])
    message.setField(Tag.ORDER_QTY, _plain(report.echo.order_qty))
    if report.echo.limit_price is not None:
        message.setField(Tag.ORD_TYPE, ORD_TYPE_LIMIT)
        message.setField(Tag.PRICE, _plain(report.echo.limit_price))
    if report.last_qty is not None and report.last_px is not None:
        message.setField(Tag.LAST_QTY, _plain(report.last_qty))
        message.setField(Tag.LAST_PX, _plain(report.last_px))
    message.setField(Tag.CUM_QTY, _plain(report.cum_qty))
    message.setField(Field.LEAVES_QTY, _plain(report.leaves_qty))
    message.setField(Tag.AVG_PX, _plain(report.avg_px))
    if report.algorithm in STRATEGY_CODES:
        message.setField(Field.TARGET_STRATEGY, STRATEGY_CODES[report.algorithm])
    message.setField(Tag.TRANSACT_TIME, timestamp(report.at))
    if report.text:
        message.setField(Tag.TEXT, report.text)
    return message


def cancel_reject(
    *,
    order_id: str | None,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    ord_status: str,
    replace: bool,
    reason: str,
    text: str,
) -> fix.Message:
    """An OrderCancelReject (35=9) answering a cancel (F) or a replace (G)."""
    message = new_message("9")
    message.setField(Tag.ORDER_ID, order_id or NO_ORDER_ID)
    message.setField(Tag.CL_ORD_ID, cl_ord_id)
    message.setField(Tag.ORIG_CL_ORD_ID, orig_cl_ord_id)
    message.setField(Tag.ORD_STATUS, ord_status)
    message.setField(Field.CXL_REJ_RESPONSE_TO, "2" if replace else "1")
    message.setField(Field.CXL_REJ_REASON, reason)
    message.setField(Tag.TEXT, text)
    return message


def business_reject(request: Unsupported) -> fix.Message:
    """A BusinessMessageReject (35=j) for a message type order entry does not take."""
    message = new_message("j")
    if request.ref_seq_num is not None:
        message.setField(Field.REF_SEQ_NUM, request.ref_seq_num)
    message.setField(Field.REF_MSG_TYPE, request.msg_type)
    message.setField(Field.BUSINESS_REJECT_REASON, BUSINESS_REJECT_UNSUPPORTED_TYPE)
    message.setField(
        Tag.TEXT,
        f"MsgType {request.msg_type} is not taken here: send D (new), F (cancel) or G (amend)",
    )
    return message


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f") if number else "0"
