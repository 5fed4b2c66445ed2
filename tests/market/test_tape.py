"""The trade tape: trades summed per second of their own time, and what stretch it saw whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sor_daemon.market.tape import TradeTape

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)


def seconds(value: float) -> datetime:
    return T0 + timedelta(seconds=value)


def test_trades_count_toward_the_whole_seconds_that_end_in_the_stretch() -> None:
    tape = TradeTape(live_since=T0, retention=timedelta(minutes=5))
    now = seconds(10)
    for at, price, size in (
        (0.2, "100", "1"),
        (0.9, "102", "2"),
        (1.5, "101", "4"),
        (3.0, "99", "1"),
    ):
        tape.record(Decimal(price), Decimal(size), seconds(at), now)

    assert tape.traded(seconds(0), seconds(2)) == (Decimal(7), Decimal(708))
    assert tape.traded(seconds(1), seconds(3)) == (Decimal(4), Decimal(404))
    assert tape.traded(seconds(3), seconds(4)) == (Decimal(1), Decimal(99))
    # A second counts when it ends in the stretch: (0.5, 1.5] holds the end of second 0 only,
    # so the second still running at 1.5 does not cut the answer short.
    assert tape.traded(seconds(0.5), seconds(1.5)) == (Decimal(3), Decimal(304))
    assert tape.traded(seconds(4), seconds(9)) == (Decimal(0), Decimal(0))


def test_the_tape_covers_what_lies_between_going_live_and_now() -> None:
    tape = TradeTape(live_since=seconds(5), retention=timedelta(minutes=5))
    now = seconds(20)

    assert tape.covers(seconds(5), seconds(20), now)
    assert tape.covers(seconds(6), seconds(10), now)
    assert not tape.covers(seconds(4), seconds(10), now)  # before the snapshot
    assert not tape.covers(seconds(10), seconds(21), now)  # not over yet
    late = TradeTape(live_since=seconds(5.2), retention=timedelta(minutes=5))
    assert not late.covers(seconds(5.5), seconds(10), now)  # second 5 began before going live
    assert late.covers(seconds(6), seconds(10), now)


def test_old_seconds_are_forgotten_and_no_longer_covered() -> None:
    tape = TradeTape(live_since=T0, retention=timedelta(seconds=60))
    tape.record(Decimal(100), Decimal(1), seconds(1), seconds(1))
    tape.record(Decimal(100), Decimal(2), seconds(50), seconds(50))

    tape.record(Decimal(100), Decimal(4), seconds(90), now=seconds(90))

    assert not tape.covers(seconds(0), seconds(60), seconds(90))
    assert tape.covers(seconds(31), seconds(91), seconds(91))
    assert tape.traded(seconds(0), seconds(91)) == (Decimal(6), Decimal(600))


def test_short_and_long_stretches_of_a_long_tape_count_the_same_trades() -> None:
    tape = TradeTape(live_since=T0, retention=timedelta(hours=1))
    now = seconds(300)
    trades = [(at + 0.5, Decimal(100 + at % 7), Decimal(1 + at % 3)) for at in range(0, 300, 2)]
    for at, price, size in trades:
        tape.record(price, size, seconds(at), now)
    for start, end in ((10, 11), (10, 12), (0, 300), (17.5, 40.2), (250, 400), (-50, 5)):
        counted = [(p, s) for at, p, s in trades if start <= at - 0.5 and at + 0.5 <= end]
        expected = (sum(s for _, s in counted), sum(p * s for p, s in counted))
        assert tape.traded(seconds(start), seconds(end)) == expected, (start, end)
