"""Every message of the SOR protocol, as typed attrs classes.

Inbound, what clients send: ``NewSmartOrder``, ``CancelSmartOrder`` and ``ChangeParameters``, with
their ``SmartOrderParameters`` and ``ParameterChanges``. Only the codec builds them from JSON, and
it checks every field on the way in, so code that holds one may trust it.

Outbound, what the daemon sends: the feed's ``StatusChange``, ``TradeFill``, ``TradeRequest`` and
``Reject``; the REST answers ``SmartOrderView`` and ``AddResponse``; and the EMS account models
(``Balance``, ``Position``, ``OrderReport``) the daemon proxies. Each outbound class names its
``DIALECT``, which decides the key casing and the spelling of a ``Side`` the codec writes, so that
the JSON is exactly the seed's.

Inside, money is Decimal, times are aware UTC datetimes and durations are Periods; turning them
into the seed's JSON is the codec's job.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, NewType

import attrs

from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.periods import Period

REJECTED_MESSAGE_LIMIT = 1000
OMIT_IF_NONE = "sor_daemon.omit_if_none"

HistoryTime = NewType("HistoryTime", datetime)
"""A time written in the ``statusHistory`` format (``07/24/2024 09:41:40``), not in ISO 8601."""


class Side(enum.Enum):
    """Buy or sell. The value is the EMS spelling; the codec writes ``Buy`` or ``sell`` where the
    seed does."""

    BUY = "BUY"
    SELL = "SELL"


class Dialect(enum.Enum):
    """How an outbound class is written: the casing of its keys and the spelling of a Side."""

    FEED = "feed"  # the WebSocket feed: PascalCase keys ("CompositeId"), Side as "Buy"
    REST = "rest"  # the SOR's REST answers: camelCase keys ("statusInfo"), Side as "Sell"
    EMS = "ems"  # CoinAPI's EMS models: snake_case keys ("client_order_id"), Side as "BUY"


def extra_field() -> Any:
    """An optional field of ours that the seed does not show: written only when it is not None,
    so a client that knows only the seed sees exactly the seed's shape."""
    return attrs.field(default=None, metadata={OMIT_IF_NONE: True})


def _message_type(name: str) -> Any:
    """The constant ``Type`` of a message, written first and never passed in."""
    return attrs.field(default=name, init=False)


# --- inbound ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SmartOrderParameters:
    """What to trade and over what schedule. ``safety_threshold`` caps VWAP's share of volume;
    ``limit_price`` is the worst price a child may trade at (None: the router's tolerance only)."""

    side: Side
    symbol: str
    symbol_type: str
    amount: Decimal
    duration: Period
    interval: Period
    safety_threshold: Decimal | None = None
    limit_price: Decimal | None = None


@attrs.frozen(kw_only=True)
class ParameterChanges:
    """The parameters a ParamChange replaces; None keeps the current value."""

    amount: Decimal | None = None
    duration: Period | None = None
    interval: Period | None = None
    safety_threshold: Decimal | None = None
    limit_price: Decimal | None = None


@attrs.frozen(kw_only=True)
class NewSmartOrder:
    """Start a smart order. ``id`` is the client's choice in the old docs' form, else None."""

    TYPE: ClassVar[str] = "New"

    id: str | None = None
    algorithm: str
    exchanges: tuple[str, ...]
    parameters: SmartOrderParameters


@attrs.frozen
class CancelSmartOrder:
    """Stop a smart order; what has been filled stays filled."""

    TYPE: ClassVar[str] = "Cancel"

    id: str


@attrs.frozen(kw_only=True)
class ChangeParameters:
    """Change a running smart order's amount, duration, interval, safety threshold or limit
    price."""

    TYPE: ClassVar[str] = "ParamChange"

    id: str
    parameters: ParameterChanges


InboundMessage = NewSmartOrder | CancelSmartOrder | ChangeParameters


# --- the WebSocket feed -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FillReport:
    """One fill of a child order: the Data of a TradeFill and an element of StatusChange Fills."""

    DIALECT: ClassVar[Dialect] = Dialect.FEED

    order_id: str
    exchange: str
    symbol_id: str
    amount_filled: Decimal
    price: Decimal
    side: Side
    status: str
    time_stamp: datetime


@attrs.frozen(kw_only=True)
class StatusChangeData:
    """A smart order's state: its status, what is filled and every fill so far."""

    DIALECT: ClassVar[Dialect] = Dialect.FEED

    id: str
    total_filled: Decimal
    fills_count: int
    status: str
    fills: tuple[FillReport, ...] = ()
    status_info: str | None = extra_field()


@attrs.frozen(kw_only=True)
class StatusChange:
    """Sent when a smart order's status changes."""

    DIALECT: ClassVar[Dialect] = Dialect.FEED

    type: str = _message_type("StatusChange")
    composite_id: str
    data: StatusChangeData


@attrs.frozen(kw_only=True)
class TradeFill:
    """Sent for every fill of a child order."""

    DIALECT: ClassVar[Dialect] = Dialect.FEED

    type: str = _message_type("TradeFill")
    composite_id: str
    data: FillReport


@attrs.frozen(kw_only=True)
class OrderNewSingleRequest:
    """A child order in the EMS's own model: what the daemon asks the EMS to trade."""

    DIALECT: ClassVar[Dialect] = Dialect.EMS

    type: str = _message_type("ORDER_NEW_SINGLE_REQUEST")
    exchange_id: str
    client_order_id: str
    symbol_id_exchange: str | None = None
    symbol_id_coinapi: str | None = None
    amount_order: Decimal
    price: Decimal
    avg_px: Decimal = Decimal(0)
    side: Side
    order_type: str = "LIMIT"
    time_in_force: str
    expire_time: datetime | None = None
    exec_inst: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class TradeRequest:
    """Sent when a child order goes out to the EMS."""

    DIALECT: ClassVar[Dialect] = Dialect.FEED

    type: str = _message_type("TradeRequest")
    composite_id: str
    data: OrderNewSingleRequest


@attrs.frozen(kw_only=True)
class RejectData:
    """Why a message was refused, and the start of the message itself."""

    DIALECT: ClassVar[Dialect] = Dialect.FEED

    reject_reason: str
    reject_message: str
    rejected_message: str


@attrs.frozen(kw_only=True)
class Reject:
    """Sent instead of an effect when an inbound message cannot be accepted."""

    DIALECT: ClassVar[Dialect] = Dialect.FEED

    type: str = _message_type("Reject")
    composite_id: str | None
    data: RejectData

    @classmethod
    def from_error(
        cls, error: ProtocolError, raw: str | bytes, composite_id: str | None = None
    ) -> Reject:
        """The Reject answering ``raw``, which ``error`` refused; ``raw`` is cut to 1000 chars."""
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        return cls(
            composite_id=composite_id,
            data=RejectData(
                reject_reason=error.reason,
                reject_message=error.message,
                rejected_message=text[:REJECTED_MESSAGE_LIMIT],
            ),
        )


# --- REST answers -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FillView:
    """One fill in a SmartOrderView."""

    DIALECT: ClassVar[Dialect] = Dialect.REST

    exchange: str
    amount_filled: Decimal
    price: Decimal
    time_stamp: datetime


@attrs.frozen(kw_only=True)
class ExecutionQualityView:
    """How well a smart order traded, in a SmartOrderView (see ``domain.quality``); a figure
    that is not known yet is left out."""

    DIALECT: ClassVar[Dialect] = Dialect.REST

    arrival_price: Decimal | None = extra_field()
    average_price: Decimal | None = extra_field()
    slippage_bps: Decimal | None = extra_field()
    market_vwap: Decimal | None = extra_field()
    market_twap: Decimal | None = extra_field()
    participation_rate: Decimal | None = extra_field()


@attrs.frozen(kw_only=True)
class MarketSampleView:
    """The market as one slice saw it, in a SmartOrderView: the mid across the order's venues
    at ``time_stamp`` and what they traded in the interval before (left out when unknown)."""

    DIALECT: ClassVar[Dialect] = Dialect.REST

    time_stamp: datetime
    mid: Decimal | None = extra_field()
    volume: Decimal | None = extra_field()


@attrs.frozen(kw_only=True)
class SmartOrderView:
    """One smart order as GET /requests lists it.

    ``parameters_updates`` maps the time of each update to the parameters then in force, written
    as ``canonical_parameters`` writes them. Fields added later should be ``extra_field()``s.
    """

    DIALECT: ClassVar[Dialect] = Dialect.REST

    id: str
    status: str
    status_info: str | None
    symbol: str
    amount: Decimal
    algorithm: str
    side: Side
    duration: Period
    interval: Period
    exchanges: tuple[str, ...]
    status_history: Mapping[str, HistoryTime]
    parameters_updates: Mapping[datetime, Mapping[str, str]]
    fills: tuple[FillView, ...]
    execution_quality: ExecutionQualityView | None = extra_field()
    market: tuple[MarketSampleView, ...] | None = extra_field()
    limit_price: Decimal | None = extra_field()


@attrs.frozen(kw_only=True)
class AddResponse:
    """The answer to POST /add: the accepted order, its id and its canonical parameters."""

    DIALECT: ClassVar[Dialect] = Dialect.REST

    type: str = _message_type(NewSmartOrder.TYPE)
    id: str
    exchanges: tuple[str, ...]
    algorithm: str
    parameters: SmartOrderParameters


# --- the EMS account, proxied -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Balance:
    """One asset's balance on one exchange, as the EMS reports it."""

    DIALECT: ClassVar[Dialect] = Dialect.EMS

    id: str
    asset_id_exchange: str
    asset_id_coinapi: str | None = None
    balance: Decimal
    available: Decimal
    locked: Decimal
    traded: Decimal
    last_updated_by: str
    rate_usd: Decimal | None = None


@attrs.frozen(kw_only=True)
class Position:
    """One open position on one exchange, as the EMS reports it."""

    DIALECT: ClassVar[Dialect] = Dialect.EMS

    id: str
    symbol_id_exchange: str | None = None
    symbol_id_coinapi: str | None = None
    avg_entry_price: Decimal
    quantity: Decimal
    side: Side
    unrealized_pnl: Decimal
    leverage: Decimal
    cross_margin: bool
    liquidation_price: Decimal | None = None
    raw_data: str | None = None


@attrs.frozen(kw_only=True)
class OrderFill:
    """One fill in an EMS execution report."""

    DIALECT: ClassVar[Dialect] = Dialect.EMS

    time: datetime
    price: Decimal
    amount: Decimal


@attrs.frozen(kw_only=True)
class OrderReport:
    """An order as the EMS reports it (GET /orders): the request and where it stands."""

    DIALECT: ClassVar[Dialect] = Dialect.EMS

    id: str
    client_order_id_format_exchange: str | None = None
    exchange_order_id: str | None = None
    amount_open: Decimal
    amount_filled: Decimal
    status: str
    status_history: tuple[tuple[str, datetime], ...] = ()
    error_message: str | None = None
    fills: tuple[OrderFill, ...] = ()
    exchange_id: str
    client_order_id: str
    symbol_id_exchange: str | None = None
    symbol_id_coinapi: str | None = None
    amount_order: Decimal
    price: Decimal
    avg_px: Decimal
    side: Side
    order_type: str
    time_in_force: str
    expire_time: datetime | None = None
    exec_inst: tuple[str, ...] = ()
