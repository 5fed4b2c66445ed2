"""The market-data dialect: 35=V as the contract writes it, 35=W/X/Y read into values.

Inbound messages are built as the server would send them and parsed back through quickfix's
standard FIX44.xml, as the session parses what it receives, so groups come out as on the wire;
the dialect then reads their text, as the bridge hands it over.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import quickfix as fix
import quickfix44 as fix44
import trio

from sor_daemon.domain.market import PriceLevel
from sor_daemon.fix.bridge import TrioBridge
from sor_daemon.fix.dictionary import standard_fix44_path
from sor_daemon.fix.md_dialect import (
    BookSide,
    BookSnapshot,
    LevelChange,
    MarketDataFields,
    MarketDataRejected,
    MarketUpdate,
    SubscriptionRequestType,
    Trade,
    market_data_message,
    market_data_request,
)
from sor_daemon.protocol.messages import Side

SYMBOL = "DERIBIT_PERP_BTC_USD"
SENT = "20261125-10:00:02.500"
DICTIONARY = fix.DataDictionary(str(standard_fix44_path()))

Entry = dict[int, str]


def on_the_wire(message: fix.Message) -> fix.Message:
    """``message`` with a session header, serialised and parsed back with FIX44.xml."""
    header = message.getHeader()
    for tag, value in ((49, "COINAPI_V2"), (56, "KEY"), (34, "7"), (52, SENT)):
        header.setField(tag, value)
    return fix.Message(message.toString(), DICTIONARY, True)


def translated(message: fix.Message) -> object:
    """What the dialect makes of a message received as ``message``, read from its text."""
    return market_data_message(MarketDataFields.read(message.toString()))


def with_entries(message: fix.Message, group: type[fix.Group], entries: Iterable[Entry]) -> None:
    for fields in entries:
        entry = group()
        for tag, value in fields.items():
            entry.setField(tag, value)
        message.addGroup(entry)


def snapshot(entries: Iterable[Entry], md_req_id: str = "md-1") -> fix.Message:
    message = fix44.MarketDataSnapshotFullRefresh()
    message.setField(262, md_req_id)
    message.setField(55, SYMBOL)
    with_entries(message, fix44.MarketDataSnapshotFullRefresh.NoMDEntries, entries)
    return on_the_wire(message)


def incremental(entries: Iterable[Entry], md_req_id: str = "md-1") -> fix.Message:
    message = fix44.MarketDataIncrementalRefresh()
    message.setField(262, md_req_id)
    with_entries(message, fix44.MarketDataIncrementalRefresh.NoMDEntries, entries)
    return on_the_wire(message)


def level(entry_type: str, price: str, size: str, time: str = "10:00:01.250") -> Entry:
    return {269: entry_type, 270: price, 271: size, 272: "20261125", 273: time}


def group_values(message: fix.Message, count_tag: int, tag: int) -> list[str]:
    values = []
    for index in range(1, message.groupCount(count_tag) + 1):
        entry = fix.Group(count_tag, tag)
        message.getGroup(index, entry)
        values.append(entry.getField(tag))
    return values


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-25T{clock}+00:00")


def test_a_subscription_asks_for_bids_offers_and_trades_of_one_symbol_incrementally() -> None:
    message = market_data_request("md-3", SYMBOL, 5, SubscriptionRequestType.SUBSCRIBE)

    parsed = on_the_wire(message)
    DICTIONARY.validate(parsed)
    assert parsed.getHeader().getField(35) == "V"
    assert [parsed.getField(tag) for tag in (262, 263, 264, 265)] == ["md-3", "1", "5", "1"]
    assert group_values(parsed, 267, 269) == ["0", "1", "2"]
    assert group_values(parsed, 146, 55) == [SYMBOL]


def test_an_unsubscribe_repeats_the_subscriptions_id() -> None:
    message = market_data_request("md-3", SYMBOL, 5, SubscriptionRequestType.UNSUBSCRIBE)

    parsed = on_the_wire(message)
    DICTIONARY.validate(parsed)
    assert [parsed.getField(tag) for tag in (262, 263)] == ["md-3", "2"]


def test_a_snapshot_becomes_a_book_with_the_newest_entry_time() -> None:
    message = snapshot(
        [
            level("0", "60000.5", "1.5", "10:00:01.250"),
            level("0", "60000", "2"),
            level("1", "60001", "0.75", "10:00:01.750"),
        ]
    )

    assert translated(message) == BookSnapshot(
        md_req_id="md-1",
        symbol_id=SYMBOL,
        bids=(
            PriceLevel(Decimal("60000.5"), Decimal("1.5")),
            PriceLevel(Decimal(60000), Decimal(2)),
        ),
        asks=(PriceLevel(Decimal(60001), Decimal("0.75")),),
        at=at("10:00:01.750"),
    )


def test_an_empty_snapshot_is_dated_by_its_sending_time() -> None:
    value = translated(snapshot([]))

    assert isinstance(value, BookSnapshot)
    assert (value.bids, value.asks, value.at) == ((), (), at("10:00:02.500"))


def test_an_incremental_refresh_carries_level_changes_and_trades_each_naming_its_symbol() -> None:
    message = incremental(
        [
            {279: "1", 55: SYMBOL, **level("1", "60001", "0")},
            {279: "1", 55: "KRAKEN_SPOT_BTC_USD", **level("0", "59999", "3", "10:00:01.9")},
            {279: "0", 278: "T-9", 55: SYMBOL, 282: "SELL", **level("2", "60000.5", "0.2")},
            {279: "0", 278: "T-10", 269: "2", 55: SYMBOL, 270: "60000", 271: "0.1", 282: "?"},
        ]
    )

    assert translated(message) == MarketUpdate(
        md_req_id="md-1",
        changes=(
            LevelChange(SYMBOL, BookSide.ASK, Decimal(60001), Decimal(0), at("10:00:01.250")),
            LevelChange(
                "KRAKEN_SPOT_BTC_USD", BookSide.BID, Decimal(59999), Decimal(3), at("10:00:01.9")
            ),
        ),
        trades=(
            Trade(SYMBOL, "T-9", Decimal("60000.5"), Decimal("0.2"), Side.SELL, at("10:00:01.250")),
            Trade(SYMBOL, "T-10", Decimal(60000), Decimal("0.1"), None, at("10:00:02.500")),
        ),
    )


def test_a_reject_says_which_request_and_why() -> None:
    message = fix44.MarketDataRequestReject()
    message.setField(262, "md-4")
    message.setField(281, "0")
    message.setField(58, "unknown symbol NOPE")

    value = translated(on_the_wire(message))

    assert value == MarketDataRejected("md-4", "0", "unknown symbol NOPE")
    assert isinstance(value, MarketDataRejected)
    assert value.reason_text == "unknown symbol"


def test_other_messages_are_not_market_data() -> None:
    message = fix44.News()
    message.setField(148, "hello")
    message.setField(33, "0")

    assert translated(on_the_wire(message)) is None


@pytest.mark.parametrize(
    "entry",
    [
        {279: "1", 55: SYMBOL, 269: "0", 271: "1"},
        {279: "1", 55: SYMBOL, **level("0", "-1", "1")},
        {279: "1", 55: SYMBOL, **level("0", "60000", "-1")},
        {279: "1", 55: SYMBOL, **level("0", "lots", "1")},
        {279: "1", **level("0", "60000", "1")},
        {279: "0", 55: SYMBOL, **level("2", "60000", "1")},
        {279: "1", 55: SYMBOL, **level("0", "60000", "1", "10:00:xx")},
    ],
    ids=[
        "no price",
        "negative price",
        "negative size",
        "not a number",
        "no symbol",
        "trade without id",
        "bad time",
    ],
)
def test_a_message_that_breaks_the_dialect_is_an_error(entry: Entry) -> None:
    with pytest.raises(ValueError):
        translated(incremental([entry]))


async def test_the_bridge_hands_values_to_trio_and_drops_malformed_messages() -> None:
    send, receive = trio.open_memory_channel[object](10)
    bridge = TrioBridge(
        "market-data",
        trio.lowlevel.current_trio_token(),
        send.send_nowait,
        translate=market_data_message,
        on_logon=object,
        on_logout=object,
        read=MarketDataFields.read,
    )
    session = fix.SessionID("FIX.4.4", "KEY", "COINAPI_V2")

    bridge.fromApp(incremental([{279: "1", 55: SYMBOL, 269: "0", 271: "1"}]), session)
    bridge.fromApp(incremental([{279: "1", 55: SYMBOL, **level("0", "60000", "1")}]), session)

    with trio.fail_after(5):
        value = await receive.receive()
    assert isinstance(value, MarketUpdate)
    assert value.changes[0].price == Decimal(60000)
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(trio.WouldBlock):
        receive.receive_nowait()


def test_times_keep_their_fraction_up_to_microseconds() -> None:
    message = incremental([{279: "1", 55: SYMBOL, **level("0", "1", "1", "23:59:59.123456789")}])

    value = translated(message)

    assert isinstance(value, MarketUpdate)
    assert value.changes[0].at == datetime(2026, 11, 25, 23, 59, 59, 123456, tzinfo=UTC)


@pytest.mark.parametrize("time", ["24:00:00", "23:59", "23:5:59", "23:59:59.", "23:59:59.12a"])
def test_a_time_that_is_not_one_is_refused(time: str) -> None:
    message = incremental([{279: "1", 55: SYMBOL, **level("0", "1", "1", time)}])

    with pytest.raises(ValueError, match="is not a UTC time"):
        translated(message)


def quickfix_entries(message: fix.Message) -> list[Entry]:
    """Each entry of group 268 as quickfix's group API reads it."""
    entries = []
    for index in range(1, message.groupCount(268) + 1):
        entry = fix.Group(268, 269)
        message.getGroup(index, entry)
        entries.append({tag: entry.getField(tag) for tag in ENTRY_TAGS if entry.isSetField(tag)})
    return entries


ENTRY_TAGS = (55, 269, 270, 271, 272, 273, 278, 279, 282)


@pytest.mark.parametrize(
    "message",
    [
        snapshot([level("0", "60000.5", "1.5"), level("1", "60001", "0.75", "10:00:01.750")]),
        incremental(
            [
                {279: "1", 55: SYMBOL, **level("1", "60001", "0")},
                {279: "0", 278: "T=9", 55: SYMBOL, 282: "SELL", **level("2", "60000.5", "0.2")},
                {279: "2", 55: "KRAKEN_SPOT_BTC_USD", **level("0", "59999", "0")},
            ]
        ),
        incremental([]),
    ],
    ids=["snapshot", "update", "no entries"],
)
def test_the_text_reader_finds_the_entries_quickfix_finds(message: fix.Message) -> None:
    read = MarketDataFields.read(message.toString())

    assert [
        {tag: value for tag in ENTRY_TAGS if (value := entry.get(tag)) is not None}
        for entry in read.entries
    ] == quickfix_entries(message)
    assert read.getField(262) == message.getField(262)
    assert read.getField(10) == message.getTrailer().getField(10)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("268=2", "268=3"), "announces 3 entries and holds 2"),
        (("268=2", "268=x"), "announces x entries and holds 2"),
        (("268=2\x01279=1", "268=2\x01269=1\x01279=1"), "does not start with tag 279"),
    ],
    ids=["fewer entries than announced", "a count that is no number", "an entry out of order"],
)
def test_a_group_that_is_not_as_announced_is_refused(change: tuple[str, str], problem: str) -> None:
    text = incremental(
        [
            {279: "1", 55: SYMBOL, **level("1", "60001", "0")},
            {279: "1", 55: SYMBOL, **level("0", "60000", "2")},
        ]
    ).toString()
    assert change[0] in text

    with pytest.raises(ValueError, match=problem):
        MarketDataFields.read(text.replace(*change))
