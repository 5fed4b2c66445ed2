"""The EMS dialect: a child's NewOrderSingle is one the EMS's dictionary accepts, and the
ExecutionReport reader, reading the raw text (``FlatFields``), gives the very reports quickfix's
parse with the session's dictionary gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import quickfix as fix

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.values import ChildStatus
from sor_daemon.fix.bridge import read_with_dictionary
from sor_daemon.fix.dialect import FlatFields, execution_report, new_order_single_text
from sor_daemon.fix.dictionary import write_ems_dictionary
from sor_daemon.protocol.messages import Side


def report_text(msg_type: str = "8", **fields: str) -> str:
    """An EMS message as it comes off the wire (``fields`` by tag, as ``t37="..."``)."""
    message = fix.Message()
    header = message.getHeader()
    for tag, value in ((8, "FIX.4.4"), (35, msg_type), (49, "EMS"), (56, "SOR"), (34, "7")):
        header.setField(tag, value)
    for name, value in fields.items():
        message.setField(int(name.removeprefix("t")), value)
    return message.toString()


FILL = {"t37": "order-1-3", "t11": "order-1-3", "t39": "1", "t150": "F", "t14": "0.25"}
CASES = {
    "a partial fill with its last fill and average": FILL
    | {"t31": "60000.5", "t32": "0.25", "t6": "60000.5", "t17": "exec-9", "t198": "venue-77"},
    "a fill without LastQty, LastPx or AvgPx": FILL,
    "a reject whose text holds '='": FILL | {"t39": "8", "t14": "0", "t58": "reason=size"},
    "an unknown order answering a status request": FILL | {"t39": "8", "t150": "I", "t14": "0"},
    "the child named only by OrigClOrdID": {"t41": "order-2-1", "t39": "4", "t14": "0"},
}


@pytest.fixture(scope="module")
def ems_dictionary(tmp_path_factory: pytest.TempPathFactory) -> fix.DataDictionary:
    return fix.DataDictionary(str(write_ems_dictionary(tmp_path_factory.mktemp("ems"))))


def test_a_child_goes_out_as_a_new_order_single_the_ems_accepts(
    ems_dictionary: fix.DataDictionary,
) -> None:
    sent_at = datetime(2026, 11, 25, 9, 42, 14, 906123, tzinfo=UTC)
    child = ChildPlanned(
        "o-1",
        "o-1-3",
        2,
        "KRAKEN",
        "KRAKEN_SPOT_BTC_USD",
        "XBT/USD",
        Side.SELL,
        Decimal("0.25"),
        Decimal("61200.5"),
        sent_at,
    )
    message = fix.Message(new_order_single_text(child, sent_at), False)  # as the session reads it
    header = message.getHeader()
    for tag, value in ((49, "SOR"), (56, "EMS"), (34, "2"), (52, "20261125-09:42:14.906")):
        header.setField(tag, value)
    fix.DataDictionary.validate(message, ems_dictionary, ems_dictionary)
    on_the_wire = fix.Message(message.toString(), True)  # checks length and checksum
    assert on_the_wire.getHeader().getField(35) == "D"
    assert {tag: on_the_wire.getField(tag) for tag in (11, 583, 100, 48, 22, 55)} == {
        11: "o-1-3",
        583: "o-1-3",
        100: "KRAKEN",
        48: "KRAKEN_SPOT_BTC_USD",
        22: "101",
        55: "KRAKEN_SPOT_BTC_USD",
    }
    assert {tag: on_the_wire.getField(tag) for tag in (54, 38, 40, 44, 59, 60)} == {
        54: "2",
        38: "0.25",
        40: "2",
        44: "61200.5",
        59: "3",
        60: "20261125-09:42:14.906",
    }


@pytest.fixture(scope="module")
def quickfix_read(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], fix.Message]:
    directory: Path = tmp_path_factory.mktemp("dictionary")
    return read_with_dictionary(write_ems_dictionary(directory))


@pytest.mark.parametrize("fields", CASES.values(), ids=CASES.keys())
def test_the_flat_reader_gives_the_report_quickfix_gives(
    fields: dict[str, str], quickfix_read: Callable[[str], fix.Message]
) -> None:
    text = report_text(**fields)
    flat = execution_report(FlatFields.read(text))
    assert flat is not None
    assert flat == execution_report(quickfix_read(text))


def test_the_flat_reader_reads_every_field_it_is_asked_for() -> None:
    text = report_text(**CASES["a reject whose text holds '='"])
    report = execution_report(FlatFields.read(text))
    assert report is not None
    assert (report.child_id, report.status, report.cum_qty, report.text) == (
        "order-1-3",
        ChildStatus.REJECTED,
        Decimal(0),
        "reason=size",
    )


def test_other_messages_are_not_reports_and_a_report_without_a_status_is_an_error() -> None:
    assert execution_report(FlatFields.read(report_text("j", t45="7"))) is None
    without_status = {key: value for key, value in FILL.items() if key != "t39"}
    with pytest.raises(KeyError, match="no tag 39"):
        execution_report(FlatFields.read(report_text(**without_status)))
