"""Market data as the simulator's FIX end sees it: the request in, the answers out.

Frozen values only, in the terms of CoinAPI's market-data dialect (``docs/market-data.md``):
``mdcodec`` turns FIX messages into them and back, ``mdrequests`` checks a request,
``subscriptions`` decides what each subscriber is sent. The enums carry their FIX codes.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import attrs

from sor_daemon.sim.market import Level
from sor_daemon.sim.tape import Trade


class RequestType(enum.StrEnum):
    """SubscriptionRequestType (263)."""

    SNAPSHOT = "0"
    SUBSCRIBE = "1"
    UNSUBSCRIBE = "2"


class RejectReason(enum.StrEnum):
    """MDReqRejReason (281), the FIX 4.4 values the simulator answers with."""

    UNKNOWN_SYMBOL = "0"
    DUPLICATE_MD_REQ_ID = "1"
    UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE = "4"
    UNSUPPORTED_MARKET_DEPTH = "5"
    UNSUPPORTED_MD_UPDATE_TYPE = "6"
    UNSUPPORTED_MD_ENTRY_TYPE = "8"


class BookSide(enum.StrEnum):
    """MDEntryType (269) of a book entry."""

    BID = "0"
    OFFER = "1"


@attrs.frozen
class MarketDataRequest:
    """A MarketDataRequest (35=V) as the client sent it; ``mdrequests`` checks every field.

    ``entry_types`` are the 269 values of group 267, ``symbols`` the 55 values of group 146
    (CoinAPI symbol ids or ``^...$`` patterns).
    """

    md_req_id: str
    request_type: str
    depth: str
    update_type: str | None
    entry_types: tuple[str, ...]
    symbols: tuple[str, ...]


@attrs.frozen
class LevelChange:
    """One book change: the new size at a price on one side; size 0 removes the level."""

    side: BookSide
    price: Decimal
    size: Decimal


@attrs.frozen
class Snapshot:
    """A MarketDataSnapshotFullRefresh (35=W) of one symbol.

    A book subscription gets its levels (best first) and no trade; a trades-only one gets the
    symbol's last trade, if there is one, and no levels.
    """

    md_req_id: str
    symbol_id: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    trade: Trade | None
    time: datetime


@attrs.frozen
class Incremental:
    """A MarketDataIncrementalRefresh (35=X) of one symbol: level changes, then trades."""

    md_req_id: str
    symbol_id: str
    changes: tuple[LevelChange, ...]
    trades: tuple[Trade, ...]
    time: datetime


@attrs.frozen
class RequestReject:
    """A MarketDataRequestReject (35=Y): why, and a sentence a person can act on."""

    md_req_id: str
    reason: RejectReason
    text: str


MdOutbound = Snapshot | Incremental | RequestReject
