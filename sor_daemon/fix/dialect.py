"""CoinAPI's EMS dialect of FIX 4.4: child orders out as 35=D, ExecutionReports in as values.

The dialect's quirks (see ``fix_specs/README.md``): ClOrdID and ClOrdLinkID both carry our child
order id; the venue goes in ExDestination (100) on orders and SecurityExchange (207) elsewhere;
the symbol is SecurityID + Symbol with SecurityIDSource 101 (a CoinAPI symbol id); an
ExecutionReport's OrderID (37) is *our* id and SecondaryOrderID (198) the venue's; LastQty,
LastPx and AvgPx may be missing, so fills are derived from CumQty.

Decimal quantities and prices are written as plain decimal strings, never through a float.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import quickfix as fix

from sor_daemon.domain.children import ChildOrder
from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.values import ChildReport, ChildStatus
from sor_daemon.protocol.messages import Side

BEGIN_STRING = "FIX.4.4"
COINAPI_SYMBOL_SOURCE = "101"
ORD_TYPE_LIMIT = "2"
MASS_CANCEL_ALL_ORDERS = "7"
TIME_IN_FORCE_IOC = "3"
FIX_SIDE = {Side.BUY: "1", Side.SELL: "2"}
ORD_STATUS = {
    "0": ChildStatus.NEW,
    "1": ChildStatus.PARTIALLY_FILLED,
    "2": ChildStatus.FILLED,
    "4": ChildStatus.CANCELED,
    "6": ChildStatus.PENDING_CANCEL,
    "8": ChildStatus.REJECTED,
    "A": ChildStatus.PENDING_NEW,
    "C": ChildStatus.CANCELED,
}
EXEC_TYPE_ORDER_STATUS = "I"


class Tag:
    """FIX 4.4 tag numbers the dialect uses."""

    AVG_PX = 6
    CL_ORD_ID = 11
    CUM_QTY = 14
    EXEC_ID = 17
    SECURITY_ID_SOURCE = 22
    LAST_PX = 31
    LAST_QTY = 32
    MSG_TYPE = 35
    ORDER_ID = 37
    ORDER_QTY = 38
    ORD_STATUS = 39
    ORD_TYPE = 40
    ORIG_CL_ORD_ID = 41
    PRICE = 44
    SECURITY_ID = 48
    SENDING_TIME = 52
    SIDE = 54
    SYMBOL = 55
    TIME_IN_FORCE = 59
    TEXT = 58
    TRANSACT_TIME = 60
    EX_DESTINATION = 100
    EXEC_TYPE = 150
    SECONDARY_ORDER_ID = 198
    SECURITY_EXCHANGE = 207
    MASS_CANCEL_REQUEST_TYPE = 530
    CL_ORD_LINK_ID = 583


def new_message(msg_type: str) -> fix.Message:
    """An empty application message of ``msg_type``, to be filled with ``setField``."""
    message = fix.Message()
    message.getHeader().setField(Tag.MSG_TYPE, msg_type)
    return message


def timestamp(moment: datetime) -> str:
    """A FIX UTCTimestamp with milliseconds: ``20240724-09:42:14.906``. Cut from the ISO
    text, which is written in C: every child order carries one, and ``strftime`` took half
    as long again."""
    iso = moment.isoformat(timespec="milliseconds")
    return f"{iso[:4]}{iso[5:7]}{iso[8:10]}-{iso[11:23]}"


def parse_timestamp(text: str, tag: int) -> datetime:
    """A FIX UTCTimestamp (``YYYYMMDD-HH:MM:SS`` with up to nine fraction digits); raises
    quickfix's IncorrectDataFormat naming ``tag`` for anything else."""
    whole, _, fraction = text.partition(".")
    try:
        moment = datetime.strptime(whole, "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise fix.IncorrectDataFormat(tag, text) from None
    if fraction:
        if not fraction.isdigit():
            raise fix.IncorrectDataFormat(tag, text)
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return moment


def new_order_single_text(child: ChildPlanned, now: datetime) -> str:
    """The NewOrderSingle for a child as FIX text: LIMIT, IMMEDIATE_OR_CANCEL, CoinAPI symbol
    id. It is sent for every child, so it is written as text in one go (a dozen ``setField``
    calls took five times as long), and the session process parses it in one call."""
    return frame(
        f"35=D\x01{Tag.CL_ORD_ID}={child.child_id}\x01{Tag.CL_ORD_LINK_ID}={child.child_id}\x01"
        f"{Tag.EX_DESTINATION}={child.exchange}\x01{Tag.SECURITY_ID}={child.symbol_id_coinapi}\x01"
        f"{Tag.SECURITY_ID_SOURCE}={COINAPI_SYMBOL_SOURCE}\x01"
        f"{Tag.SYMBOL}={child.symbol_id_coinapi}\x01{Tag.SIDE}={FIX_SIDE[child.side]}\x01"
        f"{Tag.ORDER_QTY}={child.quantity:f}\x01{Tag.ORD_TYPE}={ORD_TYPE_LIMIT}\x01"
        f"{Tag.PRICE}={child.price:f}\x01{Tag.TIME_IN_FORCE}={TIME_IN_FORCE_IOC}\x01"
        f"{Tag.TRANSACT_TIME}={timestamp(now)}\x01"
    )


def frame(body: str) -> str:
    """``body`` (MsgType and the fields after it, each ended by SOH) framed as a FIX 4.4
    message's text. The session sets the rest of the header and the trailer as it sends."""
    text = f"8={BEGIN_STRING}\x019={len(body.encode())}\x01{body}"
    return f"{text}10={sum(text.encode()) % 256:03d}\x01"


def framed_message(body: str, dictionary: fix.DataDictionary | None = None) -> fix.Message:
    """quickfix's message for ``body`` (see ``frame``), parsed in one call, unvalidated.

    A message with repeating groups needs the ``dictionary`` that defines them: without one,
    quickfix keeps the body's fields in tag order, and a group's entries would go out scattered.
    """
    if dictionary is None:
        return fix.Message(frame(body), False)
    return fix.Message(frame(body), dictionary, False)


def order_status_request(child: ChildOrder) -> fix.Message:
    """An OrderStatusRequest (35=H) for a child whose fate we do not know."""
    message = new_message("H")
    message.setField(Tag.CL_ORD_ID, child.id)
    message.setField(Tag.ORDER_ID, child.id)
    message.setField(Tag.SECURITY_ID, child.symbol_id_coinapi)
    message.setField(Tag.SECURITY_ID_SOURCE, COINAPI_SYMBOL_SOURCE)
    message.setField(Tag.SYMBOL, child.symbol_id_coinapi)
    message.setField(Tag.SIDE, FIX_SIDE[child.side])
    message.setField(Tag.SECURITY_EXCHANGE, child.exchange)
    return message


def order_mass_cancel_request(request_id: str, exchange: str, now: datetime) -> fix.Message:
    """An OrderMassCancelRequest (35=q) for every order on one venue (530=7, venue in 207)."""
    message = new_message("q")
    message.setField(Tag.CL_ORD_ID, request_id)
    message.setField(Tag.MASS_CANCEL_REQUEST_TYPE, MASS_CANCEL_ALL_ORDERS)
    message.setField(Tag.SECURITY_EXCHANGE, exchange)
    message.setField(Tag.TRANSACT_TIME, timestamp(now))
    return message


def field_text(fields: fix.FieldMap | FlatFields, tag: int) -> str | None:
    """The field's value, or None when the message (or group entry) does not carry it."""
    if isinstance(fields, FlatFields):
        return fields.get(tag)
    return fields.getField(tag) if fields.isSetField(tag) else None


def field_decimal(fields: fix.FieldMap | FlatFields, tag: int) -> Decimal | None:
    """The field as a Decimal; None when missing or not finite, ValueError when not a number."""
    value = field_text(fields, tag)
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"tag {tag} holds {value!r}, not a number") from None
    return number if number.is_finite() else None


def tag_values(text: str) -> Iterator[tuple[int, str]]:
    """Each ``tag=value`` field of a FIX message's text, in order (a value may hold ``=``)."""
    for field in text.split("\x01"):
        tag, equals, value = field.partition("=")
        if equals and tag.isdigit():
            yield int(tag), value


class FlatFields:
    """A FIX message read from its text in one pass, for the EMS's ExecutionReports (which have
    no repeating groups; ``md_dialect.MarketDataFields`` reads one group besides):
    quickfix's ``getHeader``/``isSetField``/``getField``, but a dict.

    Reading a report through quickfix's ``Message`` is a call into quickfix per field, and each
    call gives up Python's GIL and waits to take it back from the FIX threads: a dozen waits per
    report on a busy Trio thread. The session has already validated the message against the
    dictionary before the bridge sees it.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[int, str]) -> None:
        self._fields = fields

    @classmethod
    def read(cls, text: str) -> FlatFields:
        """The fields of a message's text; a tag repeated keeps its first value.

        Every report is read here on the Trio thread, so the fields are split in one go and
        put in the map last to first (the first of a repeated tag is put last and stays):
        10 µs for a fill, where ``tag_values`` and a ``setdefault`` a field took 12.7.
        ValueError when a field is not ``tag=value`` with a numeric tag."""
        pairs = [field.split("=", 1) for field in text.split("\x01") if field]
        pairs.reverse()
        try:
            return cls({int(tag): value for tag, value in pairs})
        except ValueError:
            raise ValueError(f"not a FIX message: {text!r}") from None

    def getHeader(self) -> FlatFields:
        """The header's fields: the same map, header tags being distinct from body tags."""
        return self

    def isSetField(self, tag: int) -> bool:
        """True when the message carries ``tag``."""
        return tag in self._fields

    def get(self, tag: int) -> str | None:
        """The value of ``tag``, or None when the message does not carry it."""
        return self._fields.get(tag)

    def getField(self, tag: int) -> str:
        """The value of ``tag``; KeyError naming the tag when the message does not carry it."""
        try:
            return self._fields[tag]
        except KeyError:
            raise KeyError(f"the message has no tag {tag}") from None


def execution_report(message: fix.Message | FlatFields) -> ChildReport | None:
    """The report an ExecutionReport carries, or None for other messages or foreign orders."""
    if message.getHeader().getField(Tag.MSG_TYPE) != "8":
        return None
    child_id = (
        field_text(message, Tag.ORDER_ID)
        or field_text(message, Tag.ORIG_CL_ORD_ID)
        or field_text(message, Tag.CL_ORD_ID)
    )
    status = ORD_STATUS.get(message.getField(Tag.ORD_STATUS))
    if child_id is None or status is None:
        return None
    status_request = field_text(message, Tag.EXEC_TYPE) == EXEC_TYPE_ORDER_STATUS
    if status_request and status is ChildStatus.REJECTED:
        # The EMS does not know the order: it never arrived (sent just before a crash or while
        # the session was going down), so it is done with nothing filled, not a venue reject.
        status = ChildStatus.CANCELED
    return ChildReport(
        child_id=child_id,
        status=status,
        cum_qty=field_decimal(message, Tag.CUM_QTY) or Decimal(0),
        exec_id=field_text(message, Tag.EXEC_ID) or "",
        avg_px=field_decimal(message, Tag.AVG_PX),
        last_qty=field_decimal(message, Tag.LAST_QTY),
        last_px=field_decimal(message, Tag.LAST_PX),
        venue_order_id=field_text(message, Tag.SECONDARY_ORDER_ID),
        text=field_text(message, Tag.TEXT),
        status_request=status_request,
    )
