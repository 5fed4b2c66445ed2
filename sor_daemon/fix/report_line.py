"""A child order's report as the EMS session's process hands it to the daemon: already read.

Every ExecutionReport used to reach the daemon as its FIX text, to be split into fields and
read into a ``ChildReport`` on the Trio thread, the thread the whole daemon waits for: 17 µs a
fill, the line's JSON included. The session's process reads it instead, on a thread with time
to spare, and writes the report's values beside the text (``read_report``); the daemon only
puts them back together (``report_from``, 4 µs with the line's JSON). Decimals travel as their
text, so every digit and exponent comes back as it was.
"""

from __future__ import annotations

from decimal import Decimal

from sor_daemon.domain.values import ChildReport, ChildStatus
from sor_daemon.fix.dialect import FlatFields, execution_report

ReportValues = list[str | bool | None]
"""A report's fields in ``ChildReport``'s order, as JSON carries them."""


def read_report(text: str) -> ReportValues | None:
    """The values of the child report that the FIX message ``text`` carries; None when it
    carries none (another message, a foreign order) or cannot be read: the daemon then reads
    the text itself, and logs what it cannot read."""
    try:
        report = execution_report(FlatFields.read(text))
    except Exception:
        return None
    return None if report is None else report_values(report)


def report_values(report: ChildReport) -> ReportValues:
    """``report`` as plain values: strings, a boolean and Nones."""
    return [
        report.child_id,
        report.status.value,
        str(report.cum_qty),
        report.exec_id,
        _text(report.avg_px),
        _text(report.last_qty),
        _text(report.last_px),
        report.venue_order_id,
        report.text,
        report.status_request,
    ]


def report_from(values: list[object]) -> ChildReport:
    """The report ``report_values`` made ``values`` of; ValueError (or TypeError,
    ArithmeticError) when they are not such values."""
    child_id, status, cum_qty, exec_id, avg_px, last_qty, last_px, venue, text, request = values
    return ChildReport(
        child_id=_string(child_id),
        status=ChildStatus(status),
        cum_qty=Decimal(_string(cum_qty)),
        exec_id=_string(exec_id),
        avg_px=_decimal(avg_px),
        last_qty=_decimal(last_qty),
        last_px=_decimal(last_px),
        venue_order_id=None if venue is None else _string(venue),
        text=None if text is None else _string(text),
        status_request=request is True,
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(_string(value))


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a string was expected, not {value!r}")
    return value
