"""Times in the seed's two formats.

ISO 8601 UTC with seven fraction digits (``2024-07-24T09:42:14.9062991Z``) for fills and
parameter updates, as CoinAPI writes them; ``MM/DD/YYYY HH:MM:SS`` for ``statusHistory``.
Python keeps microseconds, so the seventh digit written is always 0 and a seventh digit read is
dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")
HISTORY_FORMAT = "%m/%d/%Y %H:%M:%S"


def format_iso(moment: datetime) -> str:
    """``2024-07-24T09:42:14.9062990Z``: UTC with seven fraction digits.

    Every event the journal writes carries times: ``isoformat`` (C) takes a third of what
    ``strftime`` did."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat(timespec="microseconds")[:-6] + "0Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 time with any number of fraction digits; no zone means UTC."""
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 time")
    day, clock, fraction, zone = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if zone in (None, "Z") else zone
    return datetime.fromisoformat(f"{day}T{clock}.{micro}{offset}").astimezone(UTC)


def format_history(moment: datetime) -> str:
    """``07/24/2024 09:41:40``, the seed's format for ``statusHistory``."""
    return moment.astimezone(UTC).strftime(HISTORY_FORMAT)


def parse_history(text: str) -> datetime:
    """Parse the ``statusHistory`` format back into a UTC time."""
    return datetime.strptime(text, HISTORY_FORMAT).replace(tzinfo=UTC)
