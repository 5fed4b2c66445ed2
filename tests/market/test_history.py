"""Volume from OHLCV history: the period chosen by the stretch's length, and the rows counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sor_daemon.coinapi.ohlcv import OhlcvRow
from sor_daemon.market.history import history_period, period_start, traded
from sor_daemon.protocol.periods import Period

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)


def row(start_seconds: int, volume: str, high: str, low: str, close: str) -> OhlcvRow:
    start = T0 + timedelta(seconds=start_seconds)
    return OhlcvRow(
        time_period_start=start,
        time_period_end=start + timedelta(seconds=1),
        time_open=start,
        time_close=start,
        price_open=Decimal(low),
        price_high=Decimal(high),
        price_low=Decimal(low),
        price_close=Decimal(close),
        volume_traded=Decimal(volume),
        trades_count=3,
    )


@pytest.mark.parametrize(
    ("span", "period"),
    [
        (timedelta(seconds=5), "1SEC"),
        (timedelta(seconds=999), "1SEC"),
        (timedelta(seconds=1000), "10SEC"),
        (timedelta(hours=1), "10SEC"),
        (timedelta(hours=2), "1MIN"),
        (timedelta(days=1), "10MIN"),
        (timedelta(days=30), "1HRS"),
        (timedelta(days=365), "1DAY"),
    ],
)
def test_the_period_is_the_coarsest_that_still_gives_a_hundred_rows(
    span: timedelta, period: str
) -> None:
    assert str(history_period(span)) == period


def test_rows_count_when_their_period_starts_in_the_stretch_at_their_typical_price() -> None:
    rows = [
        row(-1, "100", "10", "10", "10"),
        row(0, "2", "12", "9", "9"),
        row(1, "1", "11", "10", "12"),
        row(5, "100", "10", "10", "10"),
    ]

    volume, notional = traded(rows, T0, T0 + timedelta(seconds=5))

    assert volume == Decimal(3)
    assert notional == Decimal(2) * 10 + Decimal(1) * 11


@pytest.mark.parametrize(
    ("period", "at", "start"),
    [
        ("1SEC", "10:00:07.250", "10:00:07"),
        ("10SEC", "10:00:07.250", "10:00:00"),
        ("1MIN", "10:00:59.999", "10:00:00"),
        ("1HRS", "10:59:00", "10:00:00"),
        ("1SEC", "10:00:07", "10:00:07"),
    ],
)
def test_a_moment_falls_in_the_period_aligned_to_the_epoch(
    period: str, at: str, start: str
) -> None:
    day = "2026-11-25T"
    moment = datetime.fromisoformat(f"{day}{at}+00:00")
    assert period_start(moment, Period.parse(period)) == datetime.fromisoformat(
        f"{day}{start}+00:00"
    )
