"""Periods as the SOR and CoinAPI write them: ``5SEC``, ``1MIN``, ``2HRS``, ``1DAY``, ``1MTH``.

A smart order's ``duration`` and ``interval`` use CoinAPI's period notation: a positive count and
a unit (SEC, MIN, HRS, DAY, MTH, YRS). Months count as 30 days and years as 365 days, so that a
period is a fixed length of time the schedule can be built on.
"""

from __future__ import annotations

import re
from datetime import timedelta

import attrs

from sor_daemon.protocol.errors import ProtocolError

UNIT_SECONDS = {
    "SEC": 1,
    "MIN": 60,
    "HRS": 3600,
    "DAY": 86400,
    "MTH": 30 * 86400,
    "YRS": 365 * 86400,
}
_PATTERN = re.compile(r"^\s*(\d{1,6})\s*(SEC|MIN|HRS|DAY|MTH|YRS)\s*$", re.IGNORECASE)


@attrs.frozen(order=False)
class Period:
    """A length of time in CoinAPI's notation; ``str()`` gives it back canonically."""

    count: int
    unit: str

    @classmethod
    def parse(cls, text: object, field: str = "period") -> Period:
        """Parse ``"30SEC"`` (any case). Raises ProtocolError with a sentence on bad input."""
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None or int(match.group(1)) == 0:
            units = ", ".join(UNIT_SECONDS)
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"{field} {text!r} is not a period: write a positive count and a unit "
                f"({units}), for example 30SEC or 5MIN",
            )
        return cls(int(match.group(1)), match.group(2).upper())

    @property
    def seconds(self) -> int:
        """The period's length in seconds."""
        return self.count * UNIT_SECONDS[self.unit]

    @property
    def timedelta(self) -> timedelta:
        """The period's length as a timedelta."""
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"
