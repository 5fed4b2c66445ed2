"""Values an order keeps for its whole life, held where the garbage collector does not walk.

A running order keeps every fill and every market sample, and every child it finished: the API
shows them. Kept as attrs instances, each is an object the collector tracks, and every walk of
the heap (see ``gc_policy``) visits them: a thousand orders trading once a second for ten
minutes keep more than a million, and a complete walk took over a second. So each is kept as a
row of plain values (strings, numbers, decimals, datetimes, an enum as its value), and the rows
of one kind are kept end to end in one list (``FlatRows``): none of its items is an object the
collector tracks, and the list is one object to it however many rows it holds. (Kept as a tuple
each, a row was untracked only at the collector's first look at it: each step of the daemon's
collector walked every row made since the last, most of what it walked under a long schedule.)
``KeptValues`` is a view over an order's rows that rebuilds each as its attrs value when read,
made when asked for, so a running order pays for no more than the list.
"""

from __future__ import annotations

import enum
import functools
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import attrs

T = TypeVar("T")

Row = tuple[Any, ...]


@attrs.frozen
class RowCodec(Generic[T]):
    """How one attrs class becomes a row of untracked values and back."""

    kind: type[T]
    names: tuple[str, ...]
    enums: dict[int, Callable[[Any], Any]]
    """Position in the row -> the enum class that rebuilds the member from its value."""
    _fields: Callable[[T], Row] = attrs.field(init=False, eq=False, repr=False)
    """Reads every field in one call (``operator.attrgetter``): three rows are kept a child
    order, and a ``getattr`` a field took 1.4 µs a row where this takes 0.9."""

    @_fields.default
    def _read_fields(self) -> Callable[[T], Row]:
        read = operator.attrgetter(*self.names)
        return read if len(self.names) > 1 else lambda value: (read(value),)

    def row(self, value: T) -> Row:
        """``value`` as a row: its fields in order, an enum member as its value."""
        fields = self._fields(value)
        if not self.enums:
            return fields
        listed = list(fields)
        for position in self.enums:
            listed[position] = listed[position]._value_  # ``value`` is a property, 4x slower
        return tuple(listed)

    def value(self, row: Row) -> T:
        """The value ``row`` was made from (a new object each time)."""
        if not self.enums:
            return self.kind(*row)
        fields = list(row)
        for position, member in self.enums.items():
            fields[position] = member(fields[position])
        return self.kind(*fields)


@functools.cache
def row_codec(kind: type[T]) -> RowCodec[T]:
    """The codec of ``kind``, an attrs class whose fields hold only strings, numbers, decimals,
    datetimes, None and enum members (anything else would keep its rows tracked)."""
    attrs.resolve_types(kind)
    fields = attrs.fields(kind)
    enums = {
        position: field.type
        for position, field in enumerate(fields)
        if isinstance(field.type, type) and issubclass(field.type, enum.Enum)
    }
    return RowCodec(kind, tuple(field.name for field in fields), enums)


class FlatRows:
    """Rows of ``width`` values, kept end to end in one list; a row read is a new tuple."""

    __slots__ = ("_values", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self._values: list[Any] = []

    @classmethod
    def of(cls, kind: type) -> FlatRows:
        """Empty rows for values of the attrs class ``kind`` (``row_codec``)."""
        return cls(len(row_codec(kind).names))

    def append(self, row: Row) -> int:
        """Keep ``row`` at the end; its position."""
        position = len(self)
        self._values.extend(row)
        return position

    def replace(self, position: int, row: Row) -> None:
        """Put ``row`` in place of the row at ``position``."""
        start = position * self.width
        self._values[start : start + self.width] = row

    def value(self, position: int, column: int) -> Any:
        """One value of the row at ``position``, without reading the rest."""
        return self._values[position * self.width + column]

    def column(self, column: int) -> list[Any]:
        """The value in ``column`` of every row, first to last."""
        return self._values[column :: self.width]

    def __len__(self) -> int:
        return len(self._values) // self.width

    def __getitem__(self, position: int) -> Row:
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(f"no row {position} of {len(self)}")
        start = position * self.width
        return tuple(self._values[start : start + self.width])

    def __iter__(self) -> Iterator[Row]:
        values, width = self._values, self.width
        for start in range(0, len(values), width):
            yield tuple(values[start : start + width])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FlatRows):
            return NotImplemented
        return self.width == other.width and self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # changes as it grows

    def __repr__(self) -> str:
        return f"FlatRows({len(self)} rows of {self.width})"


class KeptValues(Sequence[T]):
    """A growing sequence of frozen attrs values of one class, stored as rows of untracked
    values.

    The class's fields must hold only strings, numbers, decimals, datetimes, None and enum
    members: anything else would be an object the collector tracks (a test checks the classes
    used)."""

    __slots__ = ("_codec", "_rows")

    def __init__(self, kind: type[T], rows: FlatRows) -> None:
        """A view of ``rows`` (kept by the caller, changed by ``append``) as values of ``kind``."""
        self._codec: RowCodec[T] = row_codec(kind)
        if rows.width != len(self._codec.names):
            raise ValueError(f"rows of {rows.width} values cannot hold a {kind.__name__}")
        self._rows = rows

    def append(self, value: T) -> None:
        """Keep ``value`` at the end."""
        self._rows.append(self._codec.row(value))

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            rows = self._rows
            return [self._codec.value(rows[position]) for position in range(len(rows))[index]]
        return self._codec.value(self._rows[index])

    def __iter__(self) -> Iterator[T]:
        return map(self._codec.value, self._rows)

    def column(self, name: str) -> Iterator[Any]:
        """The field ``name`` of every kept value, oldest first, read straight from the rows
        (an enum as its value): for sums over a whole history, without rebuilding any value."""
        return iter(self._rows.column(self._codec.names.index(name)))

    def __repr__(self) -> str:
        return f"KeptValues({self._codec.kind.__name__}, {len(self._rows)} kept)"
