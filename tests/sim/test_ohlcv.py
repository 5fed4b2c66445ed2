"""OHLCV without sockets: one-second buckets into epoch-aligned periods, and the query checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from sor_daemon.sim.ohlcv import (
    MAX_LIMIT,
    OhlcvQueryError,
    candles,
    parse_limit,
    parse_period,
    parse_window,
    period_start_at_or_after,
)
from sor_daemon.sim.tape import Bucket, epoch_second

T0 = datetime(2024, 7, 24, 9, 0, tzinfo=UTC)


def bucket(offset: int, open_: str, high: str, low: str, close: str, volume: str) -> Bucket:
    second = epoch_second(T0) + offset
    start = T0 + timedelta(seconds=offset)
    return Bucket(
        second=second,
        open=D(open_),
        high=D(high),
        low=D(low),
        close=D(close),
        volume=D(volume),
        count=2,
        first_time=start + timedelta(milliseconds=100),
        last_time=start + timedelta(milliseconds=900),
    )


BUCKETS = [
    bucket(3, "100", "101", "99", "100.5", "1"),
    bucket(7, "100.5", "103", "100", "102", "2"),
    bucket(9, "102", "102", "98", "98.5", "0.5"),
    bucket(12, "98.5", "99", "97", "97.5", "3"),
    bucket(31, "97.5", "98", "96", "96.5", "1"),
]


def test_buckets_aggregate_into_epoch_aligned_periods_and_empty_periods_have_no_row() -> None:
    rows = candles(BUCKETS, 10)
    assert [row.period_start for row in rows] == [
        T0,
        T0 + timedelta(seconds=10),
        T0 + timedelta(seconds=30),
    ]
    first = rows[0]
    assert first.period_end == T0 + timedelta(seconds=10)
    assert (first.price_open, first.price_high, first.price_low, first.price_close) == (
        D("100"),
        D("103"),
        D("98"),
        D("98.5"),
    )
    assert (first.volume, first.count) == (D("3.5"), 6)
    assert first.time_open == BUCKETS[0].first_time
    assert first.time_close == BUCKETS[2].last_time
    assert [row.volume for row in rows] == [D("3.5"), D("3"), D("1")]


def test_one_second_periods_are_the_buckets_and_a_day_is_one_row() -> None:
    seconds = candles(BUCKETS, 1)
    assert [(row.price_open, row.volume) for row in seconds] == [
        (bucket.open, bucket.volume) for bucket in BUCKETS
    ]
    [day] = candles(BUCKETS, 86_400)
    assert day.period_start == T0.replace(hour=0)
    assert (day.volume, day.count, day.price_close) == (D("7.5"), 10, D("96.5"))


def test_a_window_starts_at_the_first_period_boundary_at_or_after_its_start() -> None:
    second = epoch_second(T0)
    assert period_start_at_or_after(T0, 10) == second
    assert period_start_at_or_after(T0 + timedelta(microseconds=1), 10) == second + 10
    assert period_start_at_or_after(T0 + timedelta(seconds=10), 60) == second + 60


def test_periods_are_coinapis_in_seconds() -> None:
    periods = ("1SEC", "10sec", "5MIN", "2HRS", "1DAY", "7DAY")
    assert [parse_period(text) for text in periods] == [1, 10, 300, 7200, 86400, 604800]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, "period_id is required"),
        ("1MTH", "months and years have no fixed length"),
        ("2YRS", "months and years have no fixed length"),
        ("0SEC", "is not a period"),
        ("1WEEK", "is not a period"),
    ],
)
def test_a_bad_period_is_refused_with_a_sentence(text: str | None, words: str) -> None:
    with pytest.raises(OhlcvQueryError, match=words):
        parse_period(text)


def test_limits_default_to_100_and_stay_within_bounds() -> None:
    assert (parse_limit(None), parse_limit("1"), parse_limit(str(MAX_LIMIT))) == (100, 1, MAX_LIMIT)
    for bad in ("0", str(MAX_LIMIT + 1), "-5", "ten", ""):
        with pytest.raises(OhlcvQueryError, match="limit"):
            parse_limit(bad)


def test_a_history_window_needs_a_start_before_its_end() -> None:
    assert parse_window("2024-07-24T09:00:00.1234567Z", None) == (
        T0 + timedelta(microseconds=123456),
        None,
    )
    assert parse_window("2024-07-24T08:00:00", "2024-07-24T10:00:00+01:00")[1] == T0
    with pytest.raises(OhlcvQueryError, match="time_start is required"):
        parse_window(None, "2024-07-24T09:00:00Z")
    with pytest.raises(OhlcvQueryError, match="is not an ISO 8601 time"):
        parse_window("yesterday", None)
    with pytest.raises(OhlcvQueryError, match="must be after time_start"):
        parse_window("2024-07-24T09:00:00Z", "2024-07-24T09:00:00Z")
