"""Validating a NewOrderSingle's fields against the dialect and the instrument's grids.

Each function turns one raw FIX value into what the exchange keeps, or raises ``OrderRejected``
with the OrdRejReason (103) and a sentence for Text (58) that tells the client what to fix.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sor_daemon.domain.instruments import Instrument
from sor_daemon.sim.orders import RejectReason, Side, TimeInForce


class OrderRejected(Exception):
    """A NewOrderSingle fails validation: the OrdRejReason (103) and the sentence for Text (58)."""

    def __init__(self, reason: RejectReason, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


def parse_side(raw: str) -> Side:
    """Side (54): only buy and sell."""
    try:
        return Side(raw)
    except ValueError:
        raise OrderRejected(
            RejectReason.OTHER, f"Side (54) {raw} must be 1 (buy) or 2 (sell)"
        ) from None


def parse_time_in_force(raw: str | None) -> TimeInForce:
    """The order's TimeInForce; an order without one is good till canceled."""
    if raw is None:
        return TimeInForce.GOOD_TILL_CANCEL
    try:
        return TimeInForce(raw)
    except ValueError:
        raise OrderRejected(
            RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
            f"TimeInForce (59) {raw} is not supported; use 1 (GTC), 3 (IOC), 4 (FOK) or 6 (GTD)",
        ) from None


def parse_expire_time(
    time_in_force: TimeInForce, expire_time: datetime | None, now: datetime
) -> datetime | None:
    """When a GTD order expires; other orders do not, whatever ExpireTime they carry."""
    if time_in_force is not TimeInForce.GOOD_TILL_DATE:
        return None
    if expire_time is None:
        raise OrderRejected(RejectReason.OTHER, "a GTD order (59=6) needs ExpireTime (126)")
    if expire_time <= now:
        raise OrderRejected(RejectReason.OTHER, "the order's ExpireTime (126) has passed")
    return expire_time


def decimal_or_none(raw: str | None) -> Decimal | None:
    """A finite decimal, or None when the field is missing or not a number."""
    try:
        number = Decimal(raw) if raw is not None else None
    except InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None


def parse_quantity(raw: str | None, instrument: Instrument) -> Decimal:
    """OrderQty (38): positive, at least the minimum size, on the size grid."""
    quantity = decimal_or_none(raw)
    if quantity is None or quantity <= 0:
        raise OrderRejected(
            RejectReason.INCORRECT_QUANTITY, f"OrderQty (38) {raw} is not a positive number"
        )
    if quantity < instrument.min_size:
        raise OrderRejected(
            RejectReason.INCORRECT_QUANTITY,
            f"OrderQty {quantity:f} is below the minimum size {instrument.min_size:f} of "
            f"{instrument.symbol_id_coinapi}",
        )
    if not instrument.is_size_multiple(quantity):
        raise OrderRejected(
            RejectReason.INCORRECT_QUANTITY,
            f"OrderQty {quantity:f} is not a multiple of the size increment "
            f"{instrument.size_increment:f} of {instrument.symbol_id_coinapi}",
        )
    return quantity


def parse_price(raw: str | None, instrument: Instrument) -> Decimal:
    """Price (44): positive and on the price grid."""
    price = decimal_or_none(raw)
    if price is None or price <= 0:
        raise OrderRejected(
            RejectReason.OTHER, f"a LIMIT order needs a positive Price (44), not {raw}"
        )
    if not instrument.is_price_multiple(price):
        raise OrderRejected(
            RejectReason.OTHER,
            f"Price {price:f} is not a multiple of the price increment "
            f"{instrument.price_increment:f} of {instrument.symbol_id_coinapi}",
        )
    return price
