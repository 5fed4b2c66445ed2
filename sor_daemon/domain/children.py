"""An order's child orders: the open ones as objects, the finished ones as untracked rows.

Every child an order sends stays in its books for the order's life: reports about it can still
arrive, and the API shows it. Kept as attrs objects, each is read by every walk of the garbage
collector over the heap (see ``gc_policy``), all thirteen fields of it. A thousand orders trading
once a second make a thousand children a second: in the schedule benchmark they were most of
what the collector walked, and a walk of the whole heap held the Trio thread for 140 ms. A
finished child no longer changes (a late fill still does, rarely), so ``Children`` keeps it as a
row of plain values, end to end with the order's other finished children, where the collector
never looks (see ``kept``), and rebuilds it when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, ValuesView
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

import attrs

from sor_daemon.domain.kept import FlatRows, row_codec
from sor_daemon.domain.values import ChildStatus
from sor_daemon.protocol.messages import Side

ZERO = Decimal(0)


@attrs.define
class ChildOrder:
    """One child order as the books know it."""

    id: str
    slice_index: int
    exchange: str
    symbol_id_coinapi: str
    symbol_id_exchange: str
    side: Side
    quantity: Decimal
    price: Decimal
    planned_at: datetime
    status: ChildStatus = ChildStatus.PENDING_NEW
    cum_qty: Decimal = ZERO
    avg_px: Decimal | None = None
    text: str | None = None

    @property
    def open(self) -> bool:
        """True while the venue may still fill it."""
        return not self.status.terminal

    @property
    def leaves(self) -> Decimal:
        """What could still be filled: nothing once the child is final."""
        return max(self.quantity - self.cum_qty, ZERO) if self.open else ZERO


class ChildGlance(NamedTuple):
    """What a child's status says of its venue: read by planning (which venues rejected the
    latest slice) and by settling (how many children in a row were rejected)."""

    slice_index: int
    exchange: str
    status: ChildStatus


_NONE_REJECTED: frozenset[str] = frozenset()
"""The answer of most slices, shared: an order keeps it while it runs."""


class Children(Mapping[str, ChildOrder]):
    """An order's children by id, in the order they were planned.

    An open child is read as the object the books change in place. A finished one is read as a
    new ``ChildOrder`` each time: a change to it counts only once given back with ``keep``.
    """

    __slots__ = (
        "_entries",
        "_finished",
        "_latest_slice",
        "_open",
        "_rejected_in_a_row",
        "_rejected_latest",
    )

    def __init__(self) -> None:
        self._entries: dict[str, ChildOrder | int] = {}
        """Every child by id: an open one itself, a finished one its row in ``_finished``."""
        self._finished = FlatRows.of(ChildOrder)
        self._open: dict[str, ChildOrder] = {}
        self._rejected_in_a_row: int | None = None
        self._latest_slice: int | None = None
        """The slice of the newest child: the latest slice that has children."""
        self._rejected_latest: frozenset[str] | None = _NONE_REJECTED
        """The venues that rejected their child in ``_latest_slice``; None when they are to be
        walked for again."""

    def keep(self, child: ChildOrder) -> None:
        """Record ``child`` as it stands (a new child goes last): as itself while it is open,
        as a row once it is finished."""
        self._note_latest_slice(child, new=child.id not in self._entries)
        if child.open:
            self._entries[child.id] = self._open[child.id] = child
            return
        self._open.pop(child.id, None)
        row = _CODEC.row(child)
        entry = self._entries.get(child.id)
        if isinstance(entry, int):
            self._finished.replace(entry, row)
        else:
            self._entries[child.id] = self._finished.append(row)
        self._rejected_in_a_row = None

    def _note_latest_slice(self, child: ChildOrder, *, new: bool) -> None:
        """Keep the venues that rejected the latest slice as its children are kept, so that
        planning a slice does not walk for them: a new child of another slice starts the set
        afresh, a reject in the latest slice adds its venue. A child of the latest slice no
        longer rejected where its venue is in the set (a late report) has the set walked for
        again, as another child of that venue may still be rejected."""
        if new and child.slice_index != self._latest_slice:
            self._latest_slice = child.slice_index
            self._rejected_latest = _NONE_REJECTED
        rejected = self._rejected_latest
        if child.slice_index != self._latest_slice or rejected is None:
            return
        if child.status is ChildStatus.REJECTED:
            if child.exchange not in rejected:
                self._rejected_latest = rejected | {child.exchange}
        elif child.exchange in rejected:
            self._rejected_latest = None

    def rejected_in_a_row(self) -> int:
        """How many of the latest finished children in a row the venue rejected; open children
        are passed over. Settling asks after every report and every slice, so the count is kept
        until the next child finishes rather than walked for each question."""
        if self._rejected_in_a_row is None:
            count = 0
            for child in self.glance_newest_first():
                if child.status is ChildStatus.REJECTED:
                    count += 1
                elif child.status.terminal:
                    break
            self._rejected_in_a_row = count
        return self._rejected_in_a_row

    def rejected_in_latest_slice(self) -> frozenset[str]:
        """The venues that rejected their child in the latest slice that has children. Every
        slice asks while it is planned, so the answer is kept up to date as children are kept
        (``_note_latest_slice``) rather than walked for each question."""
        if self._rejected_latest is None:
            latest: int | None = None
            found: set[str] = set()
            for child in self.glance_newest_first():  # planned slice by slice
                if latest is not None and child.slice_index != latest:
                    break
                latest = child.slice_index
                if child.status is ChildStatus.REJECTED:
                    found.add(child.exchange)
            self._rejected_latest = frozenset(found) if found else _NONE_REJECTED
        return self._rejected_latest

    def open(self) -> ValuesView[ChildOrder]:
        """The children the venue may still fill, oldest first."""
        return self._open.values()

    def newest_first(self) -> Iterator[ChildOrder]:
        """Every child, the latest planned first."""
        return map(self._read, reversed(self._entries.values()))

    def glance_newest_first(self) -> Iterator[ChildGlance]:
        """Every child's slice, venue and status, the latest planned first. Each slice reads
        these of the latest children, twice or more: a finished child is not rebuilt for it."""
        finished = self._finished
        for entry in reversed(self._entries.values()):
            if isinstance(entry, ChildOrder):
                yield ChildGlance(entry.slice_index, entry.exchange, entry.status)
            else:
                yield ChildGlance(
                    finished.value(entry, _SLICE_INDEX),
                    finished.value(entry, _EXCHANGE),
                    ChildStatus(finished.value(entry, _STATUS)),
                )

    def __getitem__(self, child_id: str) -> ChildOrder:
        return self._read(self._entries[child_id])

    def __contains__(self, child_id: object) -> bool:
        return child_id in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Children({len(self._entries)} kept, {len(self._open)} open)"

    def _read(self, entry: ChildOrder | int) -> ChildOrder:
        """The child an entry holds: itself, or rebuilt from its row."""
        return entry if isinstance(entry, ChildOrder) else _CODEC.value(self._finished[entry])


_CODEC = row_codec(ChildOrder)
_SLICE_INDEX, _EXCHANGE, _STATUS = map(_CODEC.names.index, ChildGlance._fields)
