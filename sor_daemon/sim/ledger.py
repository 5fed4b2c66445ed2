"""The accounts behind the simulated venues: balances, positions and what each order executed.

Every venue account starts with the configured amount of each asset its instruments trade. A
spot order locks what it could spend (the quote at its limit price for a buy, the base for a
sell) while it is open; a spot fill moves base and quote. A fill of a derivative (perpetual,
future) moves a signed position instead, and the profit it realises by reducing one lands in
the quote balance. Per ClOrdID the ledger also keeps what was executed, for tests to compare a
daemon's books with.

Not thread-safe: the exchange holds its lock around every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.sim.orders import AVG_PX_QUANTUM, Side, SimOrder

ZERO = Decimal(0)


@attrs.define
class Balance:
    """One asset in one venue account."""

    balance: Decimal
    locked: Decimal = ZERO
    traded: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.balance - self.locked


@attrs.define
class Position:
    """A derivative position: signed quantity (negative is short) and its average entry."""

    instrument: Instrument
    quantity: Decimal = ZERO
    avg_entry_price: Decimal = ZERO

    @property
    def side(self) -> Side:
        return Side.BUY if self.quantity >= 0 else Side.SELL

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """What closing the position at ``mark`` would realise, in the quote asset."""
        return (mark - self.avg_entry_price) * self.quantity


@attrs.frozen
class Execution:
    """What one order executed: the ledger's record per ClOrdID."""

    exchange_id: str
    symbol_id_coinapi: str
    side: Side
    cum_qty: Decimal
    avg_px: Decimal
    status: str


def is_spot(instrument: Instrument) -> bool:
    """Spot fills move assets; anything else (perpetual, future) moves a position."""
    return instrument.symbol_type == "spot"


class Ledger:
    """Balances per (venue, asset), positions per (venue, CoinAPI symbol id), executions."""

    def __init__(self, instruments: InstrumentTable, initial: Mapping[str, Decimal]) -> None:
        self._balances: dict[tuple[str, str], Balance] = {}
        for instrument in instruments:
            for asset in (instrument.base, instrument.quote):
                key = (instrument.exchange, asset)
                if key not in self._balances:
                    self._balances[key] = Balance(initial.get(asset, ZERO))
        self._positions: dict[tuple[str, str], Position] = {}
        self._executions: dict[str, Execution] = {}

    def balances(self, exchange: str | None = None) -> dict[str, dict[str, Balance]]:
        """Balances by venue and asset, of one venue or all."""
        grouped: dict[str, dict[str, Balance]] = {}
        for (venue, asset), balance in sorted(self._balances.items()):
            if exchange is None or venue == exchange.upper():
                grouped.setdefault(venue, {})[asset] = attrs.evolve(balance)
        return grouped

    def positions(self, exchange: str | None = None) -> dict[str, list[Position]]:
        """Open (non-zero) positions by venue, of one venue or all."""
        grouped: dict[str, list[Position]] = {}
        for (venue, _), position in sorted(self._positions.items()):
            if position.quantity and (exchange is None or venue == exchange.upper()):
                grouped.setdefault(venue, []).append(attrs.evolve(position))
        return grouped

    def executions(self) -> dict[str, Execution]:
        """What each order executed, by ClOrdID."""
        return dict(self._executions)

    def shortfall(
        self, instrument: Instrument, side: Side, price: Decimal, quantity: Decimal
    ) -> str | None:
        """Why the account cannot fund the order, or None when it can."""
        reservation = _reservation(instrument, side, price, quantity)
        if reservation is None:
            return None
        asset, amount = reservation
        available = self._balance(instrument.exchange, asset).available
        if available >= amount:
            return None
        return (
            f"insufficient {asset} on {instrument.exchange}: the order needs {amount:f}, "
            f"{available:f} is available"
        )

    def reserve(
        self, instrument: Instrument, side: Side, price: Decimal, quantity: Decimal
    ) -> None:
        """Lock what an open spot order could spend."""
        reservation = _reservation(instrument, side, price, quantity)
        if reservation is not None:
            asset, amount = reservation
            self._balance(instrument.exchange, asset).locked += amount

    def release(
        self, instrument: Instrument, side: Side, price: Decimal, quantity: Decimal
    ) -> None:
        """Unlock what the unfilled ``quantity`` of a finished spot order had locked."""
        reservation = _reservation(instrument, side, price, quantity)
        if reservation is not None:
            asset, amount = reservation
            self._balance(instrument.exchange, asset).locked -= amount

    def settle(
        self,
        instrument: Instrument,
        side: Side,
        limit: Decimal,
        price: Decimal,
        quantity: Decimal,
    ) -> None:
        """Book a fill of ``quantity`` at ``price`` of an order limited at ``limit``."""
        if is_spot(instrument):
            self._settle_spot(instrument, side, limit, price, quantity)
        else:
            self._settle_position(instrument, side, price, quantity)

    def record(self, order: SimOrder) -> None:
        """Remember what ``order`` has executed so far."""
        self._executions[order.client_order_id] = Execution(
            exchange_id=order.instrument.exchange,
            symbol_id_coinapi=order.instrument.symbol_id_coinapi,
            side=order.side,
            cum_qty=order.cum_qty,
            avg_px=order.avg_px,
            status=order.status.ems_name,
        )

    def _balance(self, exchange: str, asset: str) -> Balance:
        return self._balances.setdefault((exchange, asset), Balance(ZERO))

    def _settle_spot(
        self,
        instrument: Instrument,
        side: Side,
        limit: Decimal,
        price: Decimal,
        quantity: Decimal,
    ) -> None:
        base = self._balance(instrument.exchange, instrument.base)
        quote = self._balance(instrument.exchange, instrument.quote)
        value = price * quantity
        self.release(instrument, side, limit, quantity)
        if side is Side.BUY:
            base.balance += quantity
            quote.balance -= value
        else:
            base.balance -= quantity
            quote.balance += value
        base.traded += quantity
        quote.traded += value

    def _settle_position(
        self, instrument: Instrument, side: Side, price: Decimal, quantity: Decimal
    ) -> None:
        key = (instrument.exchange, instrument.symbol_id_coinapi)
        position = self._positions.setdefault(key, Position(instrument))
        signed = quantity if side is Side.BUY else -quantity
        held = position.quantity
        after = held + signed
        if held == 0 or (held > 0) == (signed > 0):
            entry = (position.avg_entry_price * abs(held) + price * quantity) / abs(after)
        else:
            closed = min(abs(held), quantity)
            realised = (price - position.avg_entry_price) * closed * (1 if held > 0 else -1)
            self._balance(instrument.exchange, instrument.quote).balance += realised
            if after == 0:
                entry = ZERO
            elif (after > 0) != (held > 0):
                entry = price
            else:
                entry = position.avg_entry_price
        position.quantity = after
        position.avg_entry_price = entry.quantize(AVG_PX_QUANTUM).normalize()
        self._balance(instrument.exchange, instrument.quote).traded += price * quantity


def _reservation(
    instrument: Instrument, side: Side, price: Decimal, quantity: Decimal
) -> tuple[str, Decimal] | None:
    if not is_spot(instrument):
        return None
    if side is Side.BUY:
        return instrument.quote, price * quantity
    return instrument.base, quantity
