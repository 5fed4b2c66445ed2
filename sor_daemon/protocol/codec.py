"""The SOR protocol's one cattrs converter, and the functions that parse and dump its messages.

Inbound, the codec is lenient where the seed is (keys and the ``type`` in any casing, amounts as
JSON strings or numbers) and strict everywhere else: every field is checked, unknown keys are
refused, and bad input raises ProtocolError with a sentence that names the field.

Outbound, it writes what the seed writes: a Decimal as a JSON number, times in ISO 8601 with
seven fraction digits (``statusHistory`` in its own format), periods as ``5MIN``, keys and sides
in each class's dialect, and ``extra_field()``s only when they are set.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from sor_daemon.jsontext import compact_json
from sor_daemon.protocol import times
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import (
    OMIT_IF_NONE,
    Balance,
    CancelSmartOrder,
    ChangeParameters,
    Dialect,
    HistoryTime,
    InboundMessage,
    NewSmartOrder,
    OrderReport,
    ParameterChanges,
    Position,
    Side,
    SmartOrderParameters,
)
from sor_daemon.protocol.periods import Period

T = TypeVar("T")
Check = Callable[[Any, str], Any]

_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MESSAGE_TYPES = {cl.TYPE.lower(): cl for cl in (NewSmartOrder, CancelSmartOrder, ChangeParameters)}
_TYPE_NAMES = ", ".join(cl.TYPE for cl in _MESSAGE_TYPES.values())

converter = cattrs.Converter(unstruct_collection_overrides={Sequence: list})


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when it is integral (``20``), else a float (``2.5``)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _plain(value: Decimal) -> str:
    """A Decimal as the shortest plain string: ``29``, ``2.5``, never ``2.9E+1``."""
    return format(value.normalize(), "f")


def _show(value: object) -> str:
    """A value for an error message, cut short so a huge input cannot flood the answer."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(message: str) -> ProtocolError:
    return ProtocolError("INVALID_PARAMETER", message)


# --- value checks ---------------------------------------------------------------------------------
# A value parser (``_number``, ``_side_value``) raises ValueError; it serves the EMS's data too,
# whose errors are described by their paths. A field check takes the JSON value and the field's
# name, and raises a ProtocolError that names the field.

_MAGNITUDE = 30  # numbers beyond 1e30 or below 1e-30 are mistakes, and would break arithmetic


def _number(value: object) -> Decimal:
    """A finite Decimal of sane size from a JSON number or numeric string; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f'{_show(value)} is not a number; write one such as 10 or "2.5"')
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f'{_show(value)} is not a number; write one such as 10 or "2.5"') from None
    if not number.is_finite():
        raise ValueError(f"{_show(value)} is not a finite number")
    if number and abs(number.adjusted()) > _MAGNITUDE:
        raise ValueError(
            f"{_show(value)} is out of range: write a number between 1e-{_MAGNITUDE} "
            f"and 1e{_MAGNITUDE}"
        )
    return number


def _decimal(value: object, field: str) -> Decimal:
    try:
        return _number(value)
    except ValueError as error:
        raise _invalid(f"{field} {error}") from None


def _positive(value: object, field: str) -> Decimal:
    number = _decimal(value, field)
    if number <= 0:
        raise _invalid(f"{field} must be greater than 0, got {_show(value)}")
    return number


def _fraction(value: object, field: str) -> Decimal:
    number = _decimal(value, field)
    if not 0 < number <= 1:
        raise _invalid(f"{field} must be greater than 0 and at most 1, got {_show(value)}")
    return number


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{field} must be a non-empty string, got {_show(value)}")
    return value.strip()


def _upper(value: object, field: str) -> str:
    return _text(value, field).upper()


def _lower(value: object, field: str) -> str:
    return _text(value, field).lower()


def _side_value(value: object) -> Side:
    """A Side from ``buy``, ``Buy``, ``BUY``...; ValueError for anything else."""
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a side")
    return Side(value.strip().upper())


def _side(value: object, field: str) -> Side:
    try:
        return _side_value(value)
    except ValueError:
        raise _invalid(f"{field} must be buy or sell, got {_show(value)}") from None


def _order_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ORDER_ID.fullmatch(value):
        raise _invalid(f"{field} must be 1 to 64 letters, digits, '-' or '_', got {_show(value)}")
    return value


def _exchanges(value: object, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _invalid(
            f'{field} must be a non-empty list of exchanges such as ["DERIBIT"], got {_show(value)}'
        )
    names = tuple(_upper(name, field) for name in value)
    doubles = sorted(name for name, count in Counter(names).items() if count > 1)
    if doubles:
        raise _invalid(f"{field} lists {', '.join(doubles)} more than once")
    return names


def _optional(check: Check) -> Check:
    """The check for a field that may be left out or null."""

    def optional(value: object, field: str) -> Any:
        return None if value is None else check(value, field)

    return optional


# --- rules across fields --------------------------------------------------------------------------


def _check_schedule(parameters: SmartOrderParameters | ParameterChanges) -> None:
    duration, interval = parameters.duration, parameters.interval
    if duration is not None and interval is not None and interval.seconds > duration.seconds:
        raise _invalid(f"interval {interval} is longer than duration {duration}")


def _check_changes(changes: ParameterChanges) -> None:
    names = [field.name for field in attrs.fields(ParameterChanges)]
    if all(getattr(changes, name) is None for name in names):
        raise _invalid(f"parameters must change at least one of {', '.join(names)}")
    _check_schedule(changes)


# --- inbound: case-insensitive keys, checked fields, one hook per class ---------------------------


@attrs.frozen
class _Inbound:
    """How to read one inbound class: its name in messages, its field checks, its rule."""

    what: str
    checks: Mapping[str, Check]
    rule: Callable[[Any], None] | None = None


_INBOUND: dict[type, _Inbound] = {
    SmartOrderParameters: _Inbound(
        "parameters",
        {
            "side": _side,
            "symbol": _upper,
            "symbol_type": _lower,
            "amount": _positive,
            "duration": Period.parse,
            "interval": Period.parse,
            "safety_threshold": _optional(_fraction),
            "limit_price": _optional(_positive),
        },
        _check_schedule,
    ),
    ParameterChanges: _Inbound(
        "parameters",
        {
            "amount": _optional(_positive),
            "duration": _optional(Period.parse),
            "interval": _optional(Period.parse),
            "safety_threshold": _optional(_fraction),
            "limit_price": _optional(_positive),
        },
        _check_changes,
    ),
    NewSmartOrder: _Inbound(
        "the smart order",
        {"id": _optional(_order_id), "algorithm": _upper, "exchanges": _exchanges},
    ),
    CancelSmartOrder: _Inbound("the cancel request", {"id": _order_id}),
    ChangeParameters: _Inbound("the parameter change", {"id": _order_id}),
}


def _by_field_name(obj: object, cl: type, what: str) -> dict[str, object]:
    """``obj``'s items keyed by ``cl``'s field names, whatever the casing of its keys.

    A field is named as the seed names it (``symbol_type``) or in camelCase (``symbolType``),
    in any case. Refuses a non-object, an unknown key, a field given twice and a missing
    required field.
    """
    if not isinstance(obj, Mapping):
        raise _invalid(f"{what} must be a JSON object, got {_show(obj)}")
    fields = [field for field in attrs.fields(cl) if field.init]
    names = {field.name.lower(): field.name for field in fields}
    names |= {_camel(field.name).lower(): field.name for field in fields}
    found: dict[str, object] = {}
    for key, value in obj.items():
        name = names.get(key.lower()) if isinstance(key, str) else None
        if name is None:
            raise _invalid(
                f"{what} has an unknown field {_show(key)}; "
                f"the accepted fields are {', '.join(field.name for field in fields)}"
            )
        if name in found:
            raise _invalid(f"{what} gives the field {name} twice")
        found[name] = value
    missing = [f.name for f in fields if f.default is attrs.NOTHING and f.name not in found]
    if missing:
        raise _invalid(f"{what} is missing {', '.join(missing)}")
    return found


def _bind(check: Check, field: str) -> Callable[[Any, Any], Any]:
    return lambda value, _type: check(value, field)


def _structure_inbound(cl: type) -> Callable[[Any, Any], Any]:
    spec = _INBOUND[cl]
    checks = {name: override(struct_hook=_bind(check, name)) for name, check in spec.checks.items()}
    build = make_dict_structure_fn(cl, converter, **checks)

    def structure(obj: object, _type: Any) -> Any:
        message = build(_by_field_name(obj, cl, spec.what), cl)
        if spec.rule is not None:
            spec.rule(message)
        return message

    return structure


# --- outbound: keys and sides in each class's dialect ---------------------------------------------


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


_KEY_CASE: dict[Dialect, Callable[[str], str]] = {
    Dialect.FEED: _pascal,
    Dialect.REST: _camel,
    Dialect.EMS: str,
}
_SIDE_SPELLING: dict[Dialect, Callable[[Side], str]] = {
    Dialect.FEED: lambda side: side.name.title(),
    Dialect.REST: lambda side: side.name.title(),
    Dialect.EMS: lambda side: side.value,
}


def _unstructure_outbound(cl: type) -> Callable[[Any], dict[str, Any]]:
    dialect: Dialect = cl.DIALECT  # type: ignore[attr-defined]
    overrides = {
        field.name: override(
            rename=_KEY_CASE[dialect](field.name),
            omit_if_default=bool(field.metadata.get(OMIT_IF_NONE)),
            unstruct_hook=_SIDE_SPELLING[dialect] if field.type is Side else None,
        )
        for field in attrs.fields(attrs.resolve_types(cl))
    }
    return make_dict_unstructure_fn(cl, converter, _cattrs_include_init_false=True, **overrides)


def canonical_parameters(params: SmartOrderParameters) -> dict[str, str]:
    """The parameters as the SOR echoes them: every value a string, the side in lower case."""
    canonical = {
        "side": params.side.value.lower(),
        "symbol": params.symbol,
        "symbol_type": params.symbol_type,
        "amount": _plain(params.amount),
        "duration": str(params.duration),
        "interval": str(params.interval),
    }
    if params.safety_threshold is not None:
        canonical["safety_threshold"] = _plain(params.safety_threshold)
    if params.limit_price is not None:
        canonical["limit_price"] = _plain(params.limit_price)
    return canonical


def _strict(kind: type[T]) -> Callable[[Any, Any], T]:
    """A structure hook that takes only ``kind`` itself, where cattrs would coerce anything."""

    def structure(value: object, _type: Any) -> T:
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {_show(value)}")
        return value

    return structure


converter.register_structure_hook_factory(lambda cl: cl in _INBOUND, _structure_inbound)
converter.register_structure_hook(Decimal, lambda value, _type: _number(value))
converter.register_structure_hook(datetime, lambda value, _type: times.parse_iso(value))
converter.register_structure_hook(Side, lambda value, _type: _side_value(value))
converter.register_structure_hook(str, _strict(str))
converter.register_structure_hook(bool, _strict(bool))
converter.register_unstructure_hook_factory(
    lambda cl: attrs.has(cl) and hasattr(cl, "DIALECT"), _unstructure_outbound
)
converter.register_unstructure_hook(Decimal, json_number)
converter.register_unstructure_hook(datetime, times.format_iso)
converter.register_unstructure_hook(HistoryTime, times.format_history)
converter.register_unstructure_hook(Period, str)
converter.register_unstructure_hook(SmartOrderParameters, canonical_parameters)


# --- parsing --------------------------------------------------------------------------------------


def _first_protocol_error(group: BaseExceptionGroup) -> ProtocolError | None:
    for error in group.exceptions:
        if isinstance(error, ProtocolError):
            return error
        if isinstance(error, BaseExceptionGroup) and (found := _first_protocol_error(error)):
            return found
    return None


def _structure(obj: object, cl: Any, what: str) -> Any:
    """``obj`` as a ``cl``; any failure becomes the ProtocolError that says what is wrong.

    The checks of inbound SOR fields raise ProtocolErrors that name their field, and the first of
    them is the answer. Other failures (the EMS's data) are described by their paths.
    """
    try:
        return converter.structure(obj, cl)
    except cattrs.BaseValidationError as error:
        first = _first_protocol_error(error)
        if first is not None:
            raise first from None
        problems = cattrs.transform_error(error, path=what)
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise _invalid(f"{what} cannot be read: {'; '.join(problems[:3])}{more}") from None


def _load(data: object, what: str) -> object:
    """Decode JSON text; a value decoded already passes through."""
    if not isinstance(data, str | bytes):
        return data
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ProtocolError("JSON_ERROR", f"{what} is not valid JSON: {error}") from None


def _load_object(data: object, what: str) -> dict[str, object]:
    obj = _load(data, what)
    if not isinstance(obj, dict):
        raise ProtocolError("JSON_ERROR", f"{what} must be a JSON object, got {_show(obj)}")
    return obj


def _split_type(obj: dict[str, object]) -> tuple[object, dict[str, object]]:
    """The value of ``type`` (any casing; None when absent) and the other items."""
    keys = [key for key in obj if isinstance(key, str) and key.lower() == "type"]
    if len(keys) > 1:
        raise _invalid(f"type is given twice, as {' and '.join(keys)}")
    rest = {key: value for key, value in obj.items() if key not in keys}
    return (obj[keys[0]] if keys else None), rest


def parse_ws_message(text: str | bytes) -> InboundMessage:
    """Parse one WebSocket message: New, Cancel or ParamChange, in any casing."""
    kind, body = _split_type(_load_object(text, "the message"))
    if kind is None:
        raise ProtocolError("INVALID_TYPE", f"the message has no type; use one of {_TYPE_NAMES}")
    cl = _MESSAGE_TYPES.get(kind.lower()) if isinstance(kind, str) else None
    if cl is None:
        raise ProtocolError(
            "INVALID_TYPE", f"type {_show(kind)} is unknown; use one of {_TYPE_NAMES}"
        )
    return _structure(body, cl, "the message")


def _parse_body(body: object, cl: type[T]) -> T:
    kind, rest = _split_type(_load_object(body, "the request body"))
    type_name: str = cl.TYPE  # type: ignore[attr-defined]
    if kind is not None and (not isinstance(kind, str) or kind.lower() != type_name.lower()):
        raise ProtocolError(
            "INVALID_TYPE",
            f"type {_show(kind)} does not belong in this request; leave it out or write "
            f"{type_name}",
        )
    return _structure(rest, cl, "the request body")


def parse_add_body(body: object) -> NewSmartOrder:
    """Parse the body of POST /add (JSON text or decoded): a New message without its type."""
    return _parse_body(body, NewSmartOrder)


def parse_update_body(body: object) -> ChangeParameters:
    """Parse the body of PUT /update (JSON text or decoded): ``{"Id": ..., "Parameters": ...}``."""
    return _parse_body(body, ChangeParameters)


def parse_balances(obj: object) -> dict[str, list[Balance]]:
    """The EMS's balances grouped by exchange: ``{"DERIBIT": [...]}``."""
    return _structure(_load_object(obj, "the balances"), dict[str, list[Balance]], "balances")


def parse_positions(obj: object) -> dict[str, list[Position]]:
    """The EMS's open positions grouped by exchange."""
    return _structure(_load_object(obj, "the positions"), dict[str, list[Position]], "positions")


def parse_orders(obj: object) -> dict[str, list[OrderReport]]:
    """The EMS's open orders grouped by exchange."""
    return _structure(_load_object(obj, "the orders"), dict[str, list[OrderReport]], "orders")


# --- dumping --------------------------------------------------------------------------------------


def dump(message: object) -> dict[str, Any]:
    """A message as JSON-ready Python values, in the seed's shape."""
    return converter.unstructure(message)


def dumps(message: object) -> str:
    """A message as compact JSON text (every feed message is encoded on the Trio thread)."""
    return compact_json(dump(message))


def dump_grouped(mapping: Mapping[str, Sequence[object]]) -> dict[str, list[Any]]:
    """Account models grouped by exchange, as GET /balances, /orders and /positions answer."""
    return {exchange: [dump(item) for item in items] for exchange, items in mapping.items()}
