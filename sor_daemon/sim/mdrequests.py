"""A MarketDataRequest checked against the dialect and the instruments, before anything changes.

What is served (``docs/market-data.md``): 263 0 (snapshot), 1 (subscribe) or 2 (unsubscribe);
264 0 (the full book) or N levels a side (more than the book has is the full book); 265 1
(incremental; a snapshot also takes 0); 269 the sets ``012``, ``01`` or ``2``; 55 CoinAPI symbol
ids or ``^...$`` patterns matched in full against them. Anything else raises ``RequestRejected``
with the FIX reason and a sentence. An unsubscribe needs only its 262; whether that names a
subscription is for the subscription desk to say.
"""

from __future__ import annotations

import re

import attrs

from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.sim.mdmessages import MarketDataRequest, RejectReason, RequestType

INCREMENTAL = "1"
FULL_REFRESH = "0"
FULL_BOOK = 0

_ENTRY_TYPE_SETS = {
    frozenset("012"): (True, True),
    frozenset("01"): (True, False),
    frozenset("2"): (False, True),
}


class RequestRejected(Exception):
    """A request the simulator cannot serve: the 35=Y reason and text."""

    def __init__(self, reason: RejectReason, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


@attrs.frozen
class Subscribe:
    """A valid snapshot or subscribe request.

    ``depth`` is what was asked (0 for the full book), ``levels`` how many levels a side that
    means here; ``book`` and ``trades`` say which entry types were asked for.
    """

    md_req_id: str
    instruments: tuple[Instrument, ...]
    depth: int
    levels: int
    book: bool
    trades: bool
    snapshot_only: bool


@attrs.frozen
class Unsubscribe:
    """An unsubscribe of every subscription made with ``md_req_id``."""

    md_req_id: str


def check(
    request: MarketDataRequest, instruments: InstrumentTable, levels: int
) -> Subscribe | Unsubscribe:
    """The request's meaning, or ``RequestRejected``; ``levels`` is the books' depth."""
    request_type = _request_type(request.request_type)
    if request_type is RequestType.UNSUBSCRIBE:
        return Unsubscribe(request.md_req_id)
    depth = _depth(request.depth)
    _check_update_type(request.update_type, request_type)
    book, trades = _entry_types(request.entry_types)
    return Subscribe(
        md_req_id=request.md_req_id,
        instruments=_instruments(request.symbols, instruments),
        depth=depth,
        levels=levels if depth == FULL_BOOK else min(depth, levels),
        book=book,
        trades=trades,
        snapshot_only=request_type is RequestType.SNAPSHOT,
    )


def _request_type(value: str) -> RequestType:
    try:
        return RequestType(value)
    except ValueError:
        raise RequestRejected(
            RejectReason.UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE,
            f"SubscriptionRequestType (263) {value!r} is not supported; send 0 (snapshot), "
            "1 (subscribe) or 2 (unsubscribe)",
        ) from None


def _depth(value: str) -> int:
    try:
        depth = int(value)
    except ValueError:
        depth = -1
    if depth < 0:
        raise RequestRejected(
            RejectReason.UNSUPPORTED_MARKET_DEPTH,
            f"MarketDepth (264) {value!r} is not supported; send 0 (full book), 1 (top of "
            "book) or the number of levels a side",
        )
    return depth


def _check_update_type(value: str | None, request_type: RequestType) -> None:
    allowed = (INCREMENTAL,)
    if request_type is RequestType.SNAPSHOT:
        allowed = (INCREMENTAL, FULL_REFRESH)
    if value is not None and value not in allowed:
        raise RequestRejected(
            RejectReason.UNSUPPORTED_MD_UPDATE_TYPE,
            f"MDUpdateType (265) {value!r} is not supported; subscriptions are incremental "
            "only: send 265=1",
        )


def _entry_types(values: tuple[str, ...]) -> tuple[bool, bool]:
    served = _ENTRY_TYPE_SETS.get(frozenset(values))
    if served is None or len(values) != len(set(values)):
        raise RequestRejected(
            RejectReason.UNSUPPORTED_MD_ENTRY_TYPE,
            f"MDEntryType (269) set {''.join(values) or 'none'} is not supported; ask for "
            "012 (bids, offers and trades), 01 (the book) or 2 (trades)",
        )
    return served


def _instruments(symbols: tuple[str, ...], instruments: InstrumentTable) -> tuple[Instrument, ...]:
    if not symbols:
        raise RequestRejected(RejectReason.UNKNOWN_SYMBOL, "the request names no symbol (55)")
    found: dict[str, Instrument] = {}
    for symbol in symbols:
        for instrument in _matching(symbol, instruments):
            found.setdefault(instrument.symbol_id_coinapi, instrument)
    return tuple(found.values())


def _matching(symbol: str, instruments: InstrumentTable) -> list[Instrument]:
    if not (symbol.startswith("^") and symbol.endswith("$")):
        instrument = instruments.by_coinapi_id(symbol)
        if instrument is None:
            raise RequestRejected(
                RejectReason.UNKNOWN_SYMBOL,
                f"unknown symbol {symbol}; send a CoinAPI symbol id such as "
                f"{next(iter(instruments)).symbol_id_coinapi}, or a ^...$ pattern",
            )
        return [instrument]
    try:
        pattern = re.compile(symbol, re.IGNORECASE)
    except re.error as error:
        raise RequestRejected(
            RejectReason.UNKNOWN_SYMBOL, f"symbol pattern {symbol} is not a valid regex: {error}"
        ) from None
    matched = [i for i in instruments if pattern.fullmatch(i.symbol_id_coinapi)]
    if not matched:
        raise RequestRejected(
            RejectReason.UNKNOWN_SYMBOL, f"symbol pattern {symbol} matches no symbol"
        )
    return matched
