"""How journal events become rows and back: JSON with exact decimals and tagged by kind.

The journal needs its own converter, separate from the wire's: on the wire a quantity is a JSON
number, in the journal it must come back as the very Decimal that went in. Every event is
encoded on the Trio thread before it is journaled, so the JSON is orjson's: the standard
library's encoder was about a tenth of that thread's time per child order. Times and enum
members are left for orjson to write, in C (a time as RFC 3339 UTC, ``...T09:42:14.906299Z``):
formatting each time in Python took 2% of the Trio thread in the throughput benchmark.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import cattrs
import orjson
from cattrs.fns import identity

from sor_daemon.domain.events import EVENT_TYPES, Event
from sor_daemon.protocol.periods import Period
from sor_daemon.protocol.times import parse_iso


class CorruptRecord(ValueError):
    """A journal row that cannot be read back as an event."""


def _is_enum(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, Enum)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, lambda value, _: Decimal(value))
    converter.register_unstructure_hook(datetime, identity)
    converter.register_unstructure_hook_func(_is_enum, identity)
    converter.register_structure_hook(datetime, lambda value, _: parse_iso(value))
    converter.register_unstructure_hook(Period, str)
    converter.register_structure_hook(Period, lambda value, _: Period.parse(value))
    return converter


_CONVERTER = _make_converter()
_KINDS: dict[str, type] = {kind.__name__: kind for kind in EVENT_TYPES}


def encode(event: Event) -> tuple[str, str, str]:
    """The row for an event: (order id, kind, JSON body)."""
    body = orjson.dumps(_CONVERTER.unstructure(event), option=orjson.OPT_UTC_Z).decode()
    return event.order_id, type(event).__name__, body


def decode(kind: str, body: str) -> Event:
    """The event a row holds; raises CorruptRecord if it cannot be read."""
    event_type = _KINDS.get(kind)
    if event_type is None:
        raise CorruptRecord(f"unknown journal record kind {kind!r}")
    try:
        return _CONVERTER.structure(orjson.loads(body), event_type)
    except (ValueError, cattrs.BaseValidationError) as error:
        raise CorruptRecord(f"journal record of kind {kind} cannot be read: {error}") from error
