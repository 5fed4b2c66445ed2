"""The readers the benchmarks take their figures from: a stopped daemon's FIX message log and its
journal, written here as quickfix and the journal write them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bench.daemon_records import ems_log_dir, journal_events, logged_messages
from bench.fill_load import fill_booked_times, fill_logged_times
from bench.history import finished_order, write_history
from sor_daemon.domain.events import ChildReported, OrderAccepted

SOH = "\x01"


def _logged(stamp: str, *fields: str) -> str:
    """One line of quickfix's message log: its stamp, then the message, BeginString first."""
    return f"{stamp} : {SOH.join(('8=FIX.4.4', *fields))}{SOH}\n"


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y%m%d-%H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


def test_logged_messages_are_one_type_with_quickfix_s_microsecond_stamp(tmp_path: Path) -> None:
    (tmp_path / "FIX.4.4-OMS-EMS.messages.current.log").write_text(
        _logged("20261126-22:35:14.123456", "35=D", "11=c-1", "58=a=b")
        + _logged("20261126-22:35:14.200001", "35=8", "11=c-1", "150=F")
    )
    (tmp_path / "FIX.4.4-OMS-EMS.event.current.log").write_text(
        _logged("20261126-22:35:14.000001", "35=D", "11=not-a-message")
    )

    assert list(logged_messages(tmp_path, "D")) == [
        (
            _epoch("20261126-22:35:14.123456"),
            {"8": "FIX.4.4", "35": "D", "11": "c-1", "58": "a=b"},
        )
    ]


def test_a_fill_is_logged_once_by_child_and_cumulative_quantity(tmp_path: Path) -> None:
    log_dir = ems_log_dir(tmp_path)
    log_dir.mkdir(parents=True)
    (log_dir / "FIX.4.4-OMS-EMS.messages.current.log").write_text(
        _logged("20261126-22:35:14.000100", "35=8", "11=c-1", "14=0", "150=0")
        + _logged("20261126-22:35:14.000200", "35=8", "11=c-1", "14=0.50", "150=F")
        + _logged("20261126-22:35:14.000300", "35=8", "43=Y", "11=c-1", "14=0.5", "150=F")
        + _logged("20261126-22:35:14.000400", "35=8", "11=c-1", "14=1.0", "150=F")
    )

    assert fill_logged_times(tmp_path) == {
        ("c-1", Decimal("0.5")): _epoch("20261126-22:35:14.000200"),
        ("c-1", Decimal("1")): _epoch("20261126-22:35:14.000400"),
    }


def test_the_journal_gives_its_events_of_a_kind_and_when_each_fill_was_booked(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.sqlite"
    write_history(journal, 2)
    written = [event for index in range(2) for event in finished_order(index)]

    accepted = list(journal_events(journal, "OrderAccepted"))

    assert accepted == [event for event in written if isinstance(event, OrderAccepted)]
    assert fill_booked_times(tmp_path) == {
        (event.child_id, event.cum_qty): event.at.timestamp()
        for event in written
        if isinstance(event, ChildReported)
    }
