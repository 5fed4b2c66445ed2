"""The simulator's market-data messages: each entry of a refresh carries its own tags, and only
those, as a client reading the sent text with the dictionary finds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
import quickfix as fix
import quickfix44 as fix44

from sor_daemon.sim.market import Level
from sor_daemon.sim.mdacceptor import write_md_dictionary
from sor_daemon.sim.mdcodec import encode
from sor_daemon.sim.mdmessages import BookSide, Incremental, LevelChange, Snapshot
from sor_daemon.sim.orders import Side
from sor_daemon.sim.tape import Trade

SYMBOL = "BINANCE_SPOT_BTC_USDT"
AT = datetime(2026, 12, 7, 10, 0, 1, 250_000, tzinfo=UTC)
ENTRY_TAGS = (279, 269, 278, 55, 270, 271, 272, 273, 282)


@pytest.fixture(scope="module")
def dictionary(tmp_path_factory: pytest.TempPathFactory) -> fix.DataDictionary:
    """The market-data session's dictionary, as the simulator writes it."""
    directory: Path = tmp_path_factory.mktemp("md-dictionary")
    return fix.DataDictionary(str(write_md_dictionary(directory)))


def entries(
    message: fix.Message, dictionary: fix.DataDictionary, group: type[fix.Group]
) -> list[dict[int, str]]:
    """Every entry (268) of ``message`` as a client reads its text with the dictionary: the
    tags of ``ENTRY_TAGS`` it carries."""
    received = fix.Message(message.toString(), dictionary, False)
    found = []
    for index in range(1, received.groupCount(268) + 1):
        entry = group()
        received.getGroup(index, entry)
        found.append({tag: entry.getField(tag) for tag in ENTRY_TAGS if entry.isSetField(tag)})
    return found


def test_an_incremental_refresh_gives_each_change_and_each_trade_its_own_tags(
    dictionary: fix.DataDictionary,
) -> None:
    update = Incremental(
        md_req_id="md-1",
        symbol_id=SYMBOL,
        changes=(
            LevelChange(BookSide.BID, D("60000.5"), D("1.5")),
            LevelChange(BookSide.OFFER, D("60001"), D(0)),
        ),
        trades=(
            Trade(
                SYMBOL, "T-1", AT - timedelta(milliseconds=200), D("60000.5"), D("0.2"), Side.SELL
            ),
            Trade(SYMBOL, "T-2", AT + timedelta(hours=14), D("60001"), D("0.1"), Side.BUY),
        ),
        time=AT,
    )

    message = encode(update, dictionary)

    assert message.getField(262) == "md-1"
    changed = {279: "1", 55: SYMBOL, 272: "20261207", 273: "10:00:01.250"}
    assert entries(message, dictionary, fix44.MarketDataIncrementalRefresh.NoMDEntries) == [
        {**changed, 269: "0", 270: "60000.5", 271: "1.5"},
        {**changed, 269: "1", 270: "60001", 271: "0"},
        {279: "0", 269: "2", 278: "T-1", 55: SYMBOL, 270: "60000.5", 271: "0.2"}
        | {272: "20261207", 273: "10:00:01.050", 282: "SELL"},
        {279: "0", 269: "2", 278: "T-2", 55: SYMBOL, 270: "60001", 271: "0.1"}
        | {272: "20261208", 273: "00:00:01.250", 282: "BUY"},
    ]


def test_a_snapshot_lists_its_levels_best_first_then_its_last_trade(
    dictionary: fix.DataDictionary,
) -> None:
    snapshot = Snapshot(
        md_req_id="md-2",
        symbol_id=SYMBOL,
        bids=(Level(D(60000), D(2)), Level(D("59999.5"), D(3))),
        asks=(Level(D(60001), D("0.75")),),
        trade=Trade(SYMBOL, "T-3", AT, D(60000), D("0.5"), Side.BUY),
        time=AT,
    )

    message = encode(snapshot, dictionary)

    assert message.getField(55) == SYMBOL
    at = {272: "20261207", 273: "10:00:01.250"}
    assert entries(message, dictionary, fix44.MarketDataSnapshotFullRefresh.NoMDEntries) == [
        {269: "0", 270: "60000", 271: "2", **at},
        {269: "0", 270: "59999.5", 271: "3", **at},
        {269: "1", 270: "60001", 271: "0.75", **at},
        {269: "2", 270: "60000", 271: "0.5", **at, 282: "BUY"},
    ]
