"""The journal's smart orders read back a page at a time, in the order they were accepted.

A desk's journal keeps every order it ever ran, and GET /requests lists them all. Every order's
first event is its ``OrderAccepted``; the journal indexes those rows alone (a partial index, so
no other insert pays for it), which makes a page of orders an indexed range read in either
direction, and the events of a page's retired orders an indexed read by order
(``order_events``, written as each order retires). A reader has its own connection and may be
used from one thread at a time, in turn from any (worker threads, one page each).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import orjson

from sor_daemon.domain.events import Event
from sor_daemon.store.records import decode

ACCEPTED = "OrderAccepted"
"""The kind of every order's first event."""
ACCEPTED_INDEX = f"CREATE INDEX events_accepted ON events (seq) WHERE kind = '{ACCEPTED}'"

_OLDEST_FIRST = (
    f"SELECT seq, order_id FROM events WHERE kind = '{ACCEPTED}' AND seq > ? ORDER BY seq LIMIT ?"
)
_NEWEST_FIRST = (
    f"SELECT seq, order_id FROM events WHERE kind = '{ACCEPTED}' AND seq < ? "
    "ORDER BY seq DESC LIMIT ?"
)
_LIVE_AMONG = "SELECT {} FROM live WHERE order_id IN (SELECT value FROM json_each(?1))"
_EVENTS_OF = (
    "SELECT e.seq, o.order_id, e.kind, e.body FROM order_events AS o, json_each(o.seqs) AS j "
    "JOIN events AS e ON e.seq = j.value WHERE o.order_id IN (SELECT value FROM json_each(?1)) "
    "UNION ALL SELECT seq, order_id, kind, body FROM events "
    f"WHERE seq >= ({_LIVE_AMONG.format('min(first_seq)')}) "
    f"AND order_id IN ({_LIVE_AMONG.format('order_id')}) ORDER BY 1"
)
_PAST_THE_END = 2**63 - 1


class OrderHistory:
    """A reader of the journal's orders by acceptance; ``close`` it when done."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False)

    def accepted(self, after: int | None, count: int, newest_first: bool) -> list[tuple[int, str]]:
        """``(position, order id)`` of up to ``count`` orders, in the order they were accepted
        or its reverse, from just past the order at ``after`` (None: from the first, or the
        last). A page's last position is where the next page starts."""
        if newest_first:
            start = _PAST_THE_END if after is None else after
            return self._connection.execute(_NEWEST_FIRST, (start, count)).fetchall()
        start = 0 if after is None else after
        return self._connection.execute(_OLDEST_FIRST, (start, count)).fetchall()

    def events_of(self, order_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events of each of ``order_ids`` that has any (``read_events_of``)."""
        return read_events_of(self._connection, order_ids)

    def close(self) -> None:
        """Close the reader's connection."""
        self._connection.close()


def read_events_of(
    connection: sqlite3.Connection, order_ids: Sequence[str]
) -> dict[str, list[Event]]:
    """The events of each of ``order_ids`` that has any, in the order they were written, read on
    ``connection``: by ``order_events`` for a retired order, by a scan from its first event for
    one still live (accepted, not yet in the engine's memory)."""
    events: dict[str, list[Event]] = {}
    rows = connection.execute(_EVENTS_OF, (orjson.dumps(list(order_ids)).decode(),))
    for _, order_id, kind, body in rows:
        events.setdefault(order_id, []).append(decode(kind, body))
    return events
