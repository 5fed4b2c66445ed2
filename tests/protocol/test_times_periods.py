"""Times in the seed's two formats, and periods in CoinAPI's notation."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.periods import Period
from sor_daemon.protocol.times import format_history, format_iso, parse_history, parse_iso

MOMENT = datetime(2024, 7, 24, 9, 42, 14, 906299, tzinfo=UTC)


def test_format_iso_writes_seven_digits_and_z() -> None:
    assert format_iso(MOMENT) == "2024-07-24T09:42:14.9062990Z"


def test_format_iso_writes_utc_whatever_the_zone() -> None:
    paris = MOMENT.astimezone(timezone(timedelta(hours=2)))

    assert format_iso(paris) == "2024-07-24T09:42:14.9062990Z"


def test_format_iso_writes_zero_fraction() -> None:
    assert format_iso(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05.0000000Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-24T09:42:14.9062991Z", MOMENT),
        ("2024-07-24T09:42:14.906299Z", MOMENT),
        ("2024-07-24T11:42:14.906299+02:00", MOMENT),
        ("2024-07-24T09:42:14.906299", MOMENT),
        ("2024-07-24 09:42:14.906299Z", MOMENT),
        ("2024-07-24T09:42:14Z", MOMENT.replace(microsecond=0)),
        ("2024-07-24T09:42:14.9Z", MOMENT.replace(microsecond=900000)),
    ],
)
def test_parse_iso(text: str, expected: datetime) -> None:
    parsed = parse_iso(text)

    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_iso_round_trip() -> None:
    assert parse_iso(format_iso(MOMENT)) == MOMENT
    assert format_iso(parse_iso("2024-06-28T07:43:53.1499450Z")) == "2024-06-28T07:43:53.1499450Z"


@pytest.mark.parametrize("text", ["", "yesterday", "2024-07-24", "24/07/2024 09:42:14"])
def test_parse_iso_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_iso(text)


def test_history_format_round_trip() -> None:
    assert format_history(MOMENT) == "07/24/2024 09:42:14"
    assert parse_history("07/24/2024 09:41:40") == datetime(2024, 7, 24, 9, 41, 40, tzinfo=UTC)
    assert format_history(parse_history("07/24/2024 09:44:13")) == "07/24/2024 09:44:13"


@pytest.mark.parametrize(
    ("text", "count", "unit", "seconds"),
    [
        ("5SEC", 5, "SEC", 5),
        ("30sec", 30, "SEC", 30),
        ("1MIN", 1, "MIN", 60),
        (" 5min ", 5, "MIN", 300),
        ("2HRS", 2, "HRS", 7200),
        ("1DAY", 1, "DAY", 86400),
        ("1MTH", 1, "MTH", 30 * 86400),
        ("1YRS", 1, "YRS", 365 * 86400),
    ],
)
def test_period_parse(text: str, count: int, unit: str, seconds: int) -> None:
    period = Period.parse(text)

    assert period == Period(count, unit)
    assert str(period) == f"{count}{unit}"
    assert period.seconds == seconds
    assert period.timedelta == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["5XYZ", "0SEC", "-5SEC", "SEC", "5", "", "1.5MIN", "1234567SEC"])
def test_period_refuses_bad_text(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        Period.parse(text, "duration")

    assert caught.value.reason == "INVALID_PARAMETER"
    assert caught.value.message.startswith("duration ")


@pytest.mark.parametrize("value", [5, None, 5.0, ["5MIN"]])
def test_period_refuses_non_text(value: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        Period.parse(value, "interval")

    assert "interval" in caught.value.message
