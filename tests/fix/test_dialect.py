"""The EMS dialect's ExecutionReport reader: read from the raw text (``FlatFields``) it gives the
very reports quickfix's parse with the session's dictionary gives."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import quickfix as fix

from sor_daemon.domain.values import ChildStatus
from sor_daemon.fix.bridge import read_with_dictionary
from sor_daemon.fix.dialect import FlatFields, execution_report
from sor_daemon.fix.dictionary import write_ems_dictionary


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
def quickfix_read(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], fix.Message]:
    directory: Path = tmp_path_factory.mktemp("dictionary")
    return read_with_dictionary(write_ems_dictionary(directory))


@pytest.mark.parametrize("fields", CASES.values(), ids=CASES.keys())
def test_the_flat_reader_gives_the_report_quickfix_gives(
    fields: dict[str, str], quickfix_read: Callable[[str], fix.Message]
) -> None:
    text = report_text(**fields)
    flat = execution_report(FlatFields(text))
    assert flat is not None
    assert flat == execution_report(quickfix_read(text))


def test_the_flat_reader_reads_every_field_it_is_asked_for() -> None:
    report = execution_report(FlatFields(report_text(**CASES["a reject whose text holds '='"])))
    assert report is not None
    assert (report.child_id, report.status, report.cum_qty, report.text) == (
        "order-1-3",
        ChildStatus.REJECTED,
        Decimal(0),
        "reason=size",
    )


def test_other_messages_are_not_reports_and_a_report_without_a_status_is_an_error() -> None:
    assert execution_report(FlatFields(report_text("j", t45="7"))) is None
    without_status = {key: value for key, value in FILL.items() if key != "t39"}
    with pytest.raises(KeyError, match="no tag 39"):
        execution_report(FlatFields(report_text(**without_status)))
