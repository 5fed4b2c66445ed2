"""A child's report read by the EMS session's process and put back together by the daemon is
the very report the daemon read from the text; what is not a report, or cannot be read, is left
to the daemon, which reads the text itself."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from sor_daemon.domain.values import ChildReport
from sor_daemon.fix.dialect import FlatFields, execution_report
from sor_daemon.fix.ems import EmsGateway, EmsSettings
from sor_daemon.fix.report_line import read_report, report_from
from tests.fix.test_dialect import CASES, FILL, report_text


@pytest.mark.parametrize("fields", CASES.values(), ids=CASES.keys())
def test_a_report_read_by_the_session_comes_back_as_the_daemon_reads_its_text(
    fields: dict[str, str],
) -> None:
    text = report_text(**fields)
    values = read_report(text)
    assert values is not None
    carried = orjson.loads(orjson.dumps(values))
    assert report_from(carried) == execution_report(FlatFields.read(text))


def test_quantities_keep_every_digit_and_exponent() -> None:
    text = report_text(**FILL | {"t14": "0.00020000", "t32": "2E-4", "t31": "60000.50"})
    report = report_from(orjson.loads(orjson.dumps(read_report(text))))
    assert report == execution_report(FlatFields.read(text))
    assert str(report.cum_qty) == "0.00020000"
    assert str(report.last_qty) == "0.0002"
    assert str(report.last_px) == "60000.50"


def test_what_is_not_a_report_or_cannot_be_read_is_left_to_the_daemon() -> None:
    assert read_report(report_text("j", t45="7")) is None
    assert read_report(report_text(**{k: v for k, v in FILL.items() if k != "t39"})) is None
    assert read_report("not FIX at all") is None


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["order-1-3", "FILLED", "0.25"],
        ["order-1-3", "DONE", "0.25", "", None, None, None, None, None, False],
        ["order-1-3", "FILLED", "a quarter", "", None, None, None, None, None, False],
        ["order-1-3", "FILLED", 0.25, "", None, None, None, None, None, False],
    ],
)
def test_values_that_are_not_a_report_are_refused(values: list[object]) -> None:
    with pytest.raises((ValueError, TypeError, ArithmeticError)):
        report_from(values)


def test_the_daemon_reads_the_text_when_the_values_beside_it_are_not_a_report(
    tmp_path: Path,
) -> None:
    gateway = EmsGateway(EmsSettings(), tmp_path)
    heard: list[object] = []
    gateway.news.listen(heard.append)
    text = report_text(**FILL)
    gateway._hear("report", [text, "order-1-3", "DONE"])
    assert heard == [execution_report(FlatFields.read(text))]
    assert isinstance(heard[0], ChildReport) and heard[0].cum_qty == Decimal("0.25")
