"""CoinAPI's market-data dialect of FIX 4.4, seen from the server: requests in, market data out.

``parse_request`` turns a borrowed MarketDataRequest (35=V) into a frozen value inside the
callback; ``encode`` writes the 35=W, 35=X or 35=Y of an outbound value as FIX text, each entry's
tags in the dictionary's order, and quickfix reads it into a message in one call, with the
session's dictionary so that the entries are groups. The entries carry exactly the tags
``docs/market-data.md`` lists, every one allowed there by quickfix's standard FIX44.xml. Entry
times are 272 ``YYYYMMDD`` and 273 ``HH:MM:SS.sss`` (UTC).

A simulator filling a thousand child orders a second prints as many trades, each an entry of
the next incremental refresh. Built with quickfix's group classes, each entry was six to nine
``setField`` calls and an ``addGroup``, every one of which let go of the GIL and took it back,
so the ticker's thread waited on the threads reading orders once a field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import quickfix as fix
import quickfix44 as fix44

from sor_daemon.sim.fixcodec import FixText, plain
from sor_daemon.sim.mdmessages import (
    BookSide,
    Incremental,
    MarketDataRequest,
    MdOutbound,
    RequestReject,
    Snapshot,
)
from sor_daemon.sim.tape import Trade

MARKET_DATA_REQUEST = "V"

_MD_REQ_ID = 262
_SUBSCRIPTION_REQUEST_TYPE = 263
_MARKET_DEPTH = 264
_MD_UPDATE_TYPE = 265
_NO_MD_ENTRY_TYPES = 267
_NO_MD_ENTRIES = 268
_MD_ENTRY_TYPE = 269
_MD_ENTRY_PX = 270
_MD_ENTRY_SIZE = 271
_MD_ENTRY_DATE = 272
_MD_ENTRY_TIME = 273
_MD_ENTRY_ID = 278
_MD_UPDATE_ACTION = 279
_MD_REQ_REJ_REASON = 281
_MD_ENTRY_ORIGINATOR = 282
_NO_RELATED_SYM = 146
_SYMBOL = 55
_TEXT = 58

_TRADE = "2"
_NEW = "0"
_CHANGE = "1"


def parse_request(message: fix.Message) -> MarketDataRequest:
    """A MarketDataRequest (35=V); the dictionary has checked that its required tags are there."""
    entry_types = []
    for index in range(1, message.groupCount(_NO_MD_ENTRY_TYPES) + 1):
        group = fix44.MarketDataRequest.NoMDEntryTypes()
        message.getGroup(index, group)
        entry_types.append(group.getField(_MD_ENTRY_TYPE))
    symbols = []
    for index in range(1, message.groupCount(_NO_RELATED_SYM) + 1):
        group = fix44.MarketDataRequest.NoRelatedSym()
        message.getGroup(index, group)
        symbols.append(group.getField(_SYMBOL))
    return MarketDataRequest(
        md_req_id=message.getField(_MD_REQ_ID),
        request_type=message.getField(_SUBSCRIPTION_REQUEST_TYPE),
        depth=message.getField(_MARKET_DEPTH),
        update_type=(
            message.getField(_MD_UPDATE_TYPE) if message.isSetField(_MD_UPDATE_TYPE) else None
        ),
        entry_types=tuple(entry_types),
        symbols=tuple(symbols),
    )


def encode(item: MdOutbound, dictionary: fix.DataDictionary) -> fix.Message:
    """The FIX message of an outbound value; ``dictionary`` defines the session's groups."""
    if isinstance(item, Snapshot):
        text = _snapshot(item)
    elif isinstance(item, Incremental):
        text = _incremental(item)
    else:
        text = _reject(item)
    return text.message(dictionary)


def _snapshot(snapshot: Snapshot) -> FixText:
    text = FixText("W")
    text.add(_MD_REQ_ID, snapshot.md_req_id)
    text.add(_SYMBOL, snapshot.symbol_id)
    trades = () if snapshot.trade is None else (snapshot.trade,)
    text.add(_NO_MD_ENTRIES, str(len(snapshot.bids) + len(snapshot.asks) + len(trades)))
    at = _entry_time(snapshot.time)
    for side, levels in ((BookSide.BID, snapshot.bids), (BookSide.OFFER, snapshot.asks)):
        for level in levels:
            text.add(_MD_ENTRY_TYPE, side.value)
            _add_entry(text, level.price, level.size, at)
    for trade in trades:
        text.add(_MD_ENTRY_TYPE, _TRADE)
        _add_trade(text, trade)
    return text


def _incremental(update: Incremental) -> FixText:
    text = FixText("X")
    text.add(_MD_REQ_ID, update.md_req_id)
    if update.changes or update.trades:
        text.add(_NO_MD_ENTRIES, str(len(update.changes) + len(update.trades)))
    at = _entry_time(update.time)
    for change in update.changes:
        text.add(_MD_UPDATE_ACTION, _CHANGE)
        text.add(_MD_ENTRY_TYPE, change.side.value)
        text.add(_SYMBOL, update.symbol_id)
        _add_entry(text, change.price, change.size, at)
    for trade in update.trades:
        text.add(_MD_UPDATE_ACTION, _NEW)
        text.add(_MD_ENTRY_TYPE, _TRADE)
        text.add(_MD_ENTRY_ID, trade.trade_id)
        text.add(_SYMBOL, trade.symbol_id)
        _add_trade(text, trade)
    return text


def _reject(reject: RequestReject) -> FixText:
    text = FixText("Y")
    text.add(_MD_REQ_ID, reject.md_req_id)
    text.add(_MD_REQ_REJ_REASON, reject.reason.value)
    text.add(_TEXT, reject.text)
    return text


def _add_entry(text: FixText, price: Decimal, size: Decimal, at: tuple[str, str]) -> None:
    text.add(_MD_ENTRY_PX, plain(price))
    text.add(_MD_ENTRY_SIZE, plain(size))
    text.add(_MD_ENTRY_DATE, at[0])
    text.add(_MD_ENTRY_TIME, at[1])


def _add_trade(text: FixText, trade: Trade) -> None:
    """A trade entry's tags from its price on: price, size, time and the aggressor's side."""
    _add_entry(text, trade.price, trade.size, _entry_time(trade.time))
    text.add(_MD_ENTRY_ORIGINATOR, trade.aggressor.ems_name)


def _entry_time(moment: datetime) -> tuple[str, str]:
    """An entry's 272 and 273 for ``moment``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y%m%d"), utc.strftime("%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"
