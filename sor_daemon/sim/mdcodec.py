"""CoinAPI's market-data dialect of FIX 4.4, seen from the server: requests in, market data out.

``parse_request`` turns a borrowed MarketDataRequest (35=V) into a frozen value inside the
callback; ``encode`` builds the 35=W, 35=X or 35=Y of an outbound value with quickfix's FIX 4.4
message and group classes (so group fields go out in the dictionary's order) and ``setField``.
The entries carry exactly the tags ``docs/market-data.md`` lists, every one allowed there by
quickfix's standard FIX44.xml. Entry times are 272 ``YYYYMMDD`` and 273 ``HH:MM:SS.sss`` (UTC).

One group object serves every entry of a kind in a message: each entry sets every tag of its
kind again, and ``addGroup`` adds a copy. quickfix's generated group class builds its field
order tag by tag on each construction, 28 µs, and a simulator filling a thousand child orders a
second prints as many trades, each an entry of the next incremental refresh.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import quickfix as fix
import quickfix44 as fix44

from sor_daemon.sim.fixcodec import plain
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


def encode(item: MdOutbound) -> fix.Message:
    """The FIX message of an outbound value."""
    if isinstance(item, Snapshot):
        return _snapshot(item)
    if isinstance(item, Incremental):
        return _incremental(item)
    return _reject(item)


def _snapshot(snapshot: Snapshot) -> fix.Message:
    message = fix44.MarketDataSnapshotFullRefresh()
    message.setField(_MD_REQ_ID, snapshot.md_req_id)
    message.setField(_SYMBOL, snapshot.symbol_id)
    entries = 0
    entry = fix44.MarketDataSnapshotFullRefresh.NoMDEntries()
    at = _entry_time(snapshot.time)
    for side, levels in ((BookSide.BID, snapshot.bids), (BookSide.OFFER, snapshot.asks)):
        for level in levels:
            entry.setField(_MD_ENTRY_TYPE, side.value)
            _set_entry(entry, level.price, level.size, at)
            message.addGroup(entry)
            entries += 1
    if snapshot.trade is not None:
        entry = fix44.MarketDataSnapshotFullRefresh.NoMDEntries()
        entry.setField(_MD_ENTRY_TYPE, _TRADE)
        _set_entry(
            entry, snapshot.trade.price, snapshot.trade.size, _entry_time(snapshot.trade.time)
        )
        entry.setField(_MD_ENTRY_ORIGINATOR, snapshot.trade.aggressor.ems_name)
        message.addGroup(entry)
        entries += 1
    if not entries:
        message.setField(_NO_MD_ENTRIES, "0")
    return message


def _incremental(update: Incremental) -> fix.Message:
    message = fix44.MarketDataIncrementalRefresh()
    message.setField(_MD_REQ_ID, update.md_req_id)
    if update.changes:
        entry = fix44.MarketDataIncrementalRefresh.NoMDEntries()
        at = _entry_time(update.time)
        for change in update.changes:
            entry.setField(_MD_UPDATE_ACTION, _CHANGE)
            entry.setField(_MD_ENTRY_TYPE, change.side.value)
            entry.setField(_SYMBOL, update.symbol_id)
            _set_entry(entry, change.price, change.size, at)
            message.addGroup(entry)
    if update.trades:
        entry = fix44.MarketDataIncrementalRefresh.NoMDEntries()
        for trade in update.trades:
            _set_trade_entry(entry, trade)
            message.addGroup(entry)
    return message


def _set_trade_entry(entry: fix.Group, trade: Trade) -> None:
    entry.setField(_MD_UPDATE_ACTION, _NEW)
    entry.setField(_MD_ENTRY_TYPE, _TRADE)
    entry.setField(_MD_ENTRY_ID, trade.trade_id)
    entry.setField(_SYMBOL, trade.symbol_id)
    _set_entry(entry, trade.price, trade.size, _entry_time(trade.time))
    entry.setField(_MD_ENTRY_ORIGINATOR, trade.aggressor.ems_name)


def _reject(reject: RequestReject) -> fix.Message:
    message = fix44.MarketDataRequestReject()
    message.setField(_MD_REQ_ID, reject.md_req_id)
    message.setField(_MD_REQ_REJ_REASON, reject.reason.value)
    message.setField(_TEXT, reject.text)
    return message


def _set_entry(entry: fix.Group, price: Decimal, size: Decimal, at: tuple[str, str]) -> None:
    entry.setField(_MD_ENTRY_PX, plain(price))
    entry.setField(_MD_ENTRY_SIZE, plain(size))
    entry.setField(_MD_ENTRY_DATE, at[0])
    entry.setField(_MD_ENTRY_TIME, at[1])


def _entry_time(moment: datetime) -> tuple[str, str]:
    """An entry's 272 and 273 for ``moment``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y%m%d"), utc.strftime("%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"
