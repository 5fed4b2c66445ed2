"""Limit orders in FIX order entry's dialect: OrdType 2 with Price (44) reads as the smart
order's limit price, other combinations are refused with a sentence naming the tags, an amend
may carry a new limit, and every report of a limit order echoes OrdType 2 and its Price."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import quickfix as fix

from sor_daemon.fix.dialect import new_message
from sor_daemon.fix.parent_dialect import (
    AmendParent,
    Echo,
    ExecType,
    NewParent,
    OrdStatus,
    ParentReport,
    Refused,
    execution_report,
    read_request,
)
from sor_daemon.protocol.messages import Side
from tests.sim.fix_client import parse

NEW = {11: "d-1", 55: "BTC-USD", 54: "1", 38: "0.5", 847: "1001", 100: "DERIBIT", 167: "spot"}
AMEND = {11: "g-1", 41: "d-1", 38: "0.5", 55: "BTC-USD", 54: "1"}


def message(msg_type: str, fields: dict[int, str]) -> fix.Message:
    """A message from DESK1 to SOR; a NewOrderSingle gets a 3MIN / 1MIN schedule."""
    built = new_message(msg_type)
    built.getHeader().setField(49, "DESK1")
    built.getHeader().setField(56, "SOR")
    built.getHeader().setField(34, "7")
    for tag, value in fields.items():
        built.setField(tag, value)
    if msg_type == "D":
        for name, value in (("Duration", "3MIN"), ("Interval", "1MIN")):
            group = fix.Group(957, 958)
            group.setField(958, name)
            group.setField(960, value)
            built.addGroup(group)
    return built


def test_ord_type_limit_with_a_price_is_a_limit_order() -> None:
    request = read_request(message("D", {**NEW, 40: "2", 44: "66000.50"}))
    assert isinstance(request, NewParent)
    assert request.order.parameters.limit_price == Decimal("66000.50")
    assert request.echo.limit_price == Decimal("66000.50")


def test_ord_type_market_has_no_limit() -> None:
    request = read_request(message("D", {**NEW, 40: "1"}))
    assert isinstance(request, NewParent)
    assert request.order.parameters.limit_price is None


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({40: "1", 44: "66000"}, "Price (44) is only for OrdType (40) 2 (Limit)"),
        ({40: "2"}, "Price (44) is required with OrdType (40) 2 (Limit)"),
        ({40: "2", 44: "0"}, "Price (44) must be greater than 0, got 0"),
        ({40: "2", 44: "-3"}, "Price (44) must be greater than 0, got -3"),
        ({40: "P", 44: "66000"}, "OrdType (40) P is not accepted: send 1 (Market), or 2 (Limit)"),
    ],
)
def test_other_combinations_are_refused_with_a_sentence(fields: dict[int, str], text: str) -> None:
    request = read_request(message("D", {**NEW, **fields}))
    assert isinstance(request, Refused)
    assert request.text.startswith(text), request.text


@pytest.mark.parametrize(
    ("fields", "limit", "error"),
    [
        ({40: "2", 44: "65000"}, Decimal(65000), None),
        ({40: "1"}, None, None),
        ({40: "1", 44: "65000"}, None, "Price (44) is only for OrdType (40) 2"),
        ({40: "2"}, None, "Price (44) is required"),
    ],
)
def test_an_amend_carries_its_ord_type_and_limit(
    fields: dict[int, str], limit: Decimal | None, error: str | None
) -> None:
    request = read_request(message("G", {**AMEND, **fields}))
    assert isinstance(request, AmendParent)
    if error is None:
        assert (request.ord_type, request.limit_price, request.error) == (fields[40], limit, None)
    else:
        assert request.error is not None and request.error.startswith(error), request.error


def report(limit: Decimal | None) -> dict[int, str]:
    return parse(
        execution_report(
            ParentReport(
                order_id="d-1",
                cl_ord_id="d-1",
                exec_type=ExecType.NEW,
                ord_status=OrdStatus.NEW,
                echo=Echo("BTC-USD", Side.BUY, Decimal("0.5"), limit),
                cum_qty=Decimal(0),
                leaves_qty=Decimal("0.5"),
                avg_px=Decimal(0),
                at=datetime(2024, 7, 24, 9, 42, tzinfo=UTC),
            )
        ).toString()
    )


def test_a_report_of_a_limit_order_echoes_ord_type_and_price() -> None:
    assert (report(Decimal("66000.50"))[40], report(Decimal("66000.50"))[44]) == ("2", "66000.5")
    assert 40 not in report(None) and 44 not in report(None)
