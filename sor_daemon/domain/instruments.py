"""Instruments: how a smart order's symbol maps to what each venue trades, and its increments.

A smart order names a symbol the way a desk does ("BTC-USD", "perpetual"); each venue knows it by
a CoinAPI symbol id (``DERIBIT_PERP_BTC_USD``) and its own id (``BTC-PERPETUAL``), and trades it
in price and size increments above a minimum size. The table is parsed from TOML text (the file
``sor_daemon/data/instruments.toml`` ships the default); reading the file is the caller's job.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

import attrs


class InstrumentError(ValueError):
    """The instrument table, or a look-up in it, is wrong; the message says how."""


@attrs.frozen
class Instrument:
    """One tradable symbol on one venue."""

    exchange: str
    symbol: str
    symbol_type: str
    symbol_id_coinapi: str
    symbol_id_exchange: str
    base: str
    quote: str
    price_increment: Decimal
    size_increment: Decimal
    min_size: Decimal

    def round_size_down(self, size: Decimal) -> Decimal:
        """The largest tradable multiple of the size increment not above ``size``."""
        return _round_to(size, self.size_increment, ROUND_FLOOR)

    def round_price_down(self, price: Decimal) -> Decimal:
        """The largest price on the venue's grid not above ``price``."""
        return _round_to(price, self.price_increment, ROUND_FLOOR)

    def round_price_up(self, price: Decimal) -> Decimal:
        """The smallest price on the venue's grid not below ``price``."""
        return _round_to(price, self.price_increment, ROUND_CEILING)

    def is_size_multiple(self, size: Decimal) -> bool:
        """True when ``size`` lies on the venue's size grid."""
        return size % self.size_increment == 0

    def is_price_multiple(self, price: Decimal) -> bool:
        """True when ``price`` lies on the venue's price grid."""
        return price % self.price_increment == 0


def _round_to(value: Decimal, increment: Decimal, rounding: str) -> Decimal:
    steps = (value / increment).to_integral_value(rounding=rounding)
    return (steps * increment).quantize(increment)


_DECIMAL_FIELDS = ("price_increment", "size_increment", "min_size")
_TEXT_FIELDS = tuple(f.name for f in attrs.fields(Instrument) if f.name not in _DECIMAL_FIELDS)


@attrs.frozen
class InstrumentTable:
    """All instruments, found by (exchange, symbol, symbol_type) or by CoinAPI symbol id."""

    instruments: tuple[Instrument, ...]
    _by_key: dict[tuple[str, str, str], Instrument] = attrs.field(init=False, repr=False)
    _by_coinapi_id: dict[str, Instrument] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_key: dict[tuple[str, str, str], Instrument] = {}
        by_id: dict[str, Instrument] = {}
        for instrument in self.instruments:
            key = _key(instrument.exchange, instrument.symbol, instrument.symbol_type)
            if key in by_key:
                raise InstrumentError(f"instrument {key} is listed twice")
            if instrument.symbol_id_coinapi in by_id:
                raise InstrumentError(
                    f"CoinAPI symbol id {instrument.symbol_id_coinapi} is listed twice"
                )
            by_key[key] = instrument
            by_id[instrument.symbol_id_coinapi] = instrument
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_by_coinapi_id", by_id)

    @classmethod
    def from_toml(cls, text: str) -> InstrumentTable:
        """Parse the ``[[instrument]]`` entries of a TOML document."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise InstrumentError(f"the instrument table is not valid TOML: {error}") from error
        entries = document.get("instrument")
        if not isinstance(entries, list) or not entries:
            raise InstrumentError("the instrument table has no [[instrument]] entries")
        return cls(tuple(_parse_entry(index, entry) for index, entry in enumerate(entries)))

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self.instruments)

    @property
    def exchanges(self) -> frozenset[str]:
        """Every venue that trades at least one instrument."""
        return frozenset(instrument.exchange for instrument in self.instruments)

    def find(self, exchange: str, symbol: str, symbol_type: str) -> Instrument | None:
        """The instrument, or None when the venue does not trade it."""
        return self._by_key.get(_key(exchange, symbol, symbol_type))

    def by_coinapi_id(self, symbol_id: str) -> Instrument | None:
        """The instrument with this CoinAPI symbol id, or None."""
        return self._by_coinapi_id.get(symbol_id.upper())


def _key(exchange: str, symbol: str, symbol_type: str) -> tuple[str, str, str]:
    return exchange.upper(), symbol.upper(), symbol_type.lower()


def _parse_entry(index: int, entry: object) -> Instrument:
    where = f"instrument #{index + 1}"
    if not isinstance(entry, dict):
        raise InstrumentError(f"{where} is not a table")
    missing = [name for name in (*_TEXT_FIELDS, *_DECIMAL_FIELDS) if name not in entry]
    if missing:
        raise InstrumentError(f"{where} lacks {', '.join(missing)}")
    values: dict[str, object] = {name: str(entry[name]) for name in _TEXT_FIELDS}
    for name in ("exchange", "symbol", "symbol_id_coinapi", "base", "quote"):
        values[name] = str(values[name]).upper()
    values["symbol_type"] = str(values["symbol_type"]).lower()
    for name in _DECIMAL_FIELDS:
        try:
            number = Decimal(str(entry[name]))
        except InvalidOperation:
            raise InstrumentError(f"{where}: {name} {entry[name]!r} is not a number") from None
        if not number.is_finite() or number <= 0:
            raise InstrumentError(f"{where}: {name} must be a positive number")
        values[name] = number
    return Instrument(**values)  # type: ignore[arg-type]
