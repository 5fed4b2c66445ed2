"""Fills and market samples kept as rows of values the garbage collector does not track, read
back as the values they were."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest

from sor_daemon.domain.events import MarketSampled
from sor_daemon.domain.kept import FlatRows, KeptValues
from sor_daemon.domain.values import ChildStatus, Fill
from sor_daemon.protocol.messages import Side
from tests.support.collector import tracked_objects_added
from tests.support.orders import START


def fill(number: int) -> Fill:
    return Fill(
        "o-1",
        f"o-1-{number}",
        "KRAKEN",
        "KRAKEN_SPOT_BTC_USD",
        Side.SELL if number % 2 else Side.BUY,
        Decimal("0.25"),
        Decimal("61200.5") + number,
        ChildStatus.PARTIALLY_FILLED if number % 3 else ChildStatus.FILLED,
        START + timedelta(seconds=number),
    )


def sample(number: int) -> MarketSampled:
    at = START + timedelta(seconds=number)
    volume = None if number % 2 else Decimal(number)
    return MarketSampled("o-1", number, at - timedelta(seconds=1), at, volume, None, None, at)


@attrs.frozen
class Mark:
    """A value of one field: its row is still a tuple."""

    side: Side


def mark(number: int) -> Mark:
    return Mark(Side.SELL if number % 2 else Side.BUY)


@pytest.mark.parametrize("make", [fill, sample, mark], ids=["fills", "samples", "one field"])
def test_values_read_back_as_they_were_kept(make) -> None:
    values = [make(number) for number in range(7)]
    kept = KeptValues(type(values[0]), FlatRows.of(type(values[0])))
    for value in values:
        kept.append(value)
    assert list(kept) == values
    assert len(kept) == 7
    assert kept[-1] == values[-1]
    assert kept[2:4] == values[2:4]


@pytest.mark.parametrize("make", [fill, sample], ids=["fills", "samples"])
def test_kept_values_are_not_tracked_by_the_collector(make) -> None:
    kept = KeptValues(type(make(0)), FlatRows.of(type(make(0))))
    added = tracked_objects_added(lambda: [kept.append(make(number)) for number in range(2000)])
    assert added < 100
    assert len(kept) == 2000


def test_rows_are_kept_end_to_end_and_read_whole_by_value_or_by_column() -> None:
    rows = FlatRows(3)
    assert rows.append(("a", 1, None)) == 0
    assert rows.append(("b", 2, Decimal("0.5"))) == 1
    rows.replace(0, ("a", 10, Decimal(1)))
    assert list(rows) == [("a", 10, Decimal(1)), ("b", 2, Decimal("0.5"))]
    assert (rows[0], rows[-1], len(rows)) == (("a", 10, Decimal(1)), ("b", 2, Decimal("0.5")), 2)
    assert rows.value(1, 0) == "b"
    assert rows.column(1) == [10, 2]
    with pytest.raises(IndexError):
        rows[2]


def test_rows_of_another_width_cannot_hold_a_kind() -> None:
    with pytest.raises(ValueError, match="rows of 3 values cannot hold a Fill"):
        KeptValues(Fill, FlatRows(3))
