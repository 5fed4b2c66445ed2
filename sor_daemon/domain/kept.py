"""Values an order keeps for its whole life, held where the garbage collector does not walk.

A running order keeps every fill and every market sample: the API shows them. Kept as attrs
instances, each is an object the collector tracks, and a complete walk of the heap (see
``gc_policy``) visits them all: a thousand orders trading once a second for ten minutes keep more
than a million, and the walk took over a second. Kept as plain tuples of strings, numbers,
decimals and datetimes instead (an enum as its value), they are untracked at the collector's
first look (CPython stops tracking a tuple that cannot be part of a reference cycle). The order
holds the list of rows; ``KeptValues`` is a view over it that rebuilds each row as its attrs
value when read, made when asked for, so a running order pays for no more than the list.
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


class KeptValues(Sequence[T]):
    """A growing sequence of frozen attrs values of one class, stored as untracked rows.

    The class's fields must hold only strings, numbers, decimals, datetimes, None and enum
    members: anything else would keep the rows tracked (a test checks the classes used)."""

    __slots__ = ("_codec", "_rows")

    def __init__(self, kind: type[T], rows: list[Row]) -> None:
        """A view of ``rows`` (kept by the caller, changed by ``append``) as values of ``kind``."""
        self._codec: RowCodec[T] = row_codec(kind)
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
            return [self._codec.value(row) for row in self._rows[index]]
        return self._codec.value(self._rows[index])

    def __iter__(self) -> Iterator[T]:
        return map(self._codec.value, self._rows)

    def column(self, name: str) -> Iterator[Any]:
        """The field ``name`` of every kept value, oldest first, read straight from the rows
        (an enum as its value): for sums over a whole history, without rebuilding any value."""
        return map(operator.itemgetter(self._codec.names.index(name)), self._rows)

    def __repr__(self) -> str:
        return f"KeptValues({self._codec.kind.__name__}, {len(self._rows)} kept)"
