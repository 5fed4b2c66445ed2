"""Pre-trade risk checks: caps clamp a child, the collar refuses it, the order amount is capped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sor_daemon.domain.risk import RiskLimits, SymbolLimits, check_order_amount, screen_routes
from sor_daemon.domain.router import Route
from sor_daemon.protocol.errors import ProtocolError
from tests.support.orders import DERIBIT_BTC, TABLE

BINANCE_BTC = TABLE.find("BINANCE", "BTC-USD", "perpetual")
MID = Decimal("65000")


def route(quantity: str, price: str = "65000", instrument=DERIBIT_BTC) -> Route:
    return Route(instrument, Decimal(quantity), Decimal(price))


def test_a_child_over_its_notional_cap_is_clamped_to_the_grid() -> None:
    limits = RiskLimits(max_child_notional=Decimal(500000))
    screened = screen_routes([route("10")], MID, limits)
    # 500000 / 65000 = 7.69..., down to Deribit's 0.1 grid
    assert [r.quantity for r in screened.routes] == [Decimal("7.6")]
    assert screened.explain() == (
        "risk: child notional 650000 USD over the 500000 limit for DERIBIT_PERP_BTC_USD, "
        "clamped to 7.6"
    )


def test_a_symbol_cap_overrides_the_default_and_the_other_venue_keeps_the_default() -> None:
    limits = RiskLimits(
        max_child_quantity=Decimal(5),
        symbols=(SymbolLimits(symbol_id="DERIBIT_PERP_BTC_USD", max_child_quantity=Decimal(2)),),
    )
    screened = screen_routes([route("3"), route("3", instrument=BINANCE_BTC)], MID, limits)
    assert [r.quantity for r in screened.routes] == [Decimal(2), Decimal(3)]
    by_symbol = RiskLimits(
        symbols=(SymbolLimits(symbol="BTC-USD", symbol_type="perpetual", max_child_quantity=1),)
    )
    assert [r.quantity for r in screen_routes([route("3")], MID, by_symbol).routes] == [1]


def test_a_cap_below_the_minimum_size_refuses_the_child() -> None:
    screened = screen_routes([route("1")], MID, RiskLimits(max_child_quantity=Decimal("0.05")))
    assert screened.routes == ()
    assert "leaves less than the minimum size, child not sent" in screened.explain()


def test_a_price_outside_the_collar_is_refused() -> None:
    limits = RiskLimits(price_collar_bps=Decimal(50))
    inside = route("1", "65300")  # 46 bps above the mid
    outside = route("1", "65400", instrument=BINANCE_BTC)  # 62 bps above it
    screened = screen_routes([inside, outside], MID, limits)
    assert screened.routes == (inside,)
    assert screened.explain() == (
        "risk: child price 65400 is 62 bps from the mid 65000 for BINANCEFTSC_PERP_BTC_USD, "
        "over the 50 bps collar; child not sent"
    )


def test_no_mid_refuses_every_child_under_a_collar() -> None:
    screened = screen_routes([route("1")], None, RiskLimits())
    assert screened.routes == ()
    assert screened.explain().startswith("risk: no mid price")
    unchecked = screen_routes([route("1")], None, RiskLimits(price_collar_bps=None))
    assert unchecked.routes == (route("1"),)


def test_an_order_amount_over_the_limit_is_refused() -> None:
    limits = RiskLimits(
        max_order_amount=Decimal(100),
        symbols=(SymbolLimits(symbol_id="DERIBIT_PERP_BTC_USD", max_order_amount=Decimal(10)),),
    )
    check_order_amount(Decimal(50), [BINANCE_BTC], limits)
    with pytest.raises(ProtocolError) as refused:
        check_order_amount(Decimal(50), [BINANCE_BTC, DERIBIT_BTC], limits)
    assert refused.value.reason == "INVALID_PARAMETER"
    assert refused.value.message == (
        "risk: amount 50 is over the 10 limit for DERIBIT_PERP_BTC_USD"
    )
