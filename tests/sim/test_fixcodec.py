"""The dialect's messages to and from the simulator's values, without a session."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
import quickfix as fix

from sor_daemon.fix.dialect import FlatFields
from sor_daemon.sim.fixcodec import encode, parse_cancel, parse_new_order, plain
from sor_daemon.sim.orders import (
    CancelReject,
    ExecType,
    ExecutionReport,
    MassCancelReport,
    OrderStatus,
)

from .conftest import START
from .fix_client import parse

TRADE = ExecutionReport(
    exec_id="X9",
    exec_type=ExecType.TRADE,
    status=OrderStatus.PARTIALLY_FILLED,
    client_order_id="C1",
    request_id="C1",
    orig_client_order_id=None,
    exchange_order_id="V1",
    exchange="DERIBIT",
    security_id="DERIBIT_PERP_BTC_USD",
    security_id_source="101",
    symbol="DERIBIT_PERP_BTC_USD",
    side="1",
    quantity=D("3.0"),
    price=D("60100.50"),
    time_in_force="3",
    expire_time=None,
    cum_qty=D("1.20"),
    leaves_qty=D("1.80"),
    avg_px=D("60012.5"),
    last_qty=D("1.2"),
    last_px=D("60012.50"),
    transact_time=START,
)


def message(msg_type: str, fields: list[tuple[int, str]]) -> FlatFields:
    """A request as the acceptor reads it: the text of quickfix's message, in one pass."""
    built = fix.Message()
    built.getHeader().setField(35, msg_type)
    for tag, value in fields:
        built.setField(tag, value)
    return FlatFields.read(built.toString())


def test_a_trade_report_carries_the_dialects_fields_as_plain_decimals() -> None:
    fields = parse(encode(TRADE, lean=False).toString())
    assert {tag: fields[tag] for tag in (35, 37, 11, 198, 17, 150, 39, 48, 22, 55, 207)} == {
        35: "8",
        37: "C1",
        11: "C1",
        198: "V1",
        17: "X9",
        150: "F",
        39: "1",
        48: "DERIBIT_PERP_BTC_USD",
        22: "101",
        55: "DERIBIT_PERP_BTC_USD",
        207: "DERIBIT",
    }
    assert {tag: fields[tag] for tag in (54, 38, 40, 44, 59, 14, 151, 6, 31, 32, 60)} == {
        54: "1",
        38: "3",
        40: "2",
        44: "60100.5",
        59: "3",
        14: "1.2",
        151: "1.8",
        6: "60012.5",
        31: "60012.5",
        32: "1.2",
        60: "20240724-09:00:00.000",
    }
    assert 41 not in fields and 58 not in fields


def test_a_lean_report_leaves_out_last_qty_last_px_and_avg_px() -> None:
    fields = parse(encode(TRADE, lean=True).toString())
    assert not {6, 31, 32} & fields.keys()
    assert (fields[14], fields[151]) == ("1.2", "1.8")


def test_a_cancel_reject_and_a_mass_cancel_report() -> None:
    reject = CancelReject("X1", "C1", "C1", OrderStatus.FILLED, True, "already FILLED", START)
    fields = parse(encode(reject, lean=False).toString())
    assert {tag: fields[tag] for tag in (35, 37, 11, 41, 39, 434, 102, 58)} == {
        35: "9",
        37: "C1",
        11: "X1",
        41: "C1",
        39: "2",
        434: "1",
        102: "0",
        58: "already FILLED",
    }
    report = MassCancelReport("M1", "7", True, 2, "DERIBIT", None, START)
    fields = parse(encode(report, lean=False).toString())
    assert {tag: fields[tag] for tag in (35, 11, 530, 531, 533, 207)} == {
        35: "r",
        11: "M1",
        530: "7",
        531: "7",
        533: "2",
        207: "DERIBIT",
    }


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (D("1E+2"), "100"),
        (D("0.00000001"), "0.00000001"),
        (D("60000.50"), "60000.5"),
        (D("0"), "0"),
        (D("1.2300000000"), "1.23"),
    ],
)
def test_plain_writes_decimals_without_exponent_or_trailing_zeros(number: D, text: str) -> None:
    assert plain(number) == text


def test_a_new_order_single_as_the_dialect_sends_it() -> None:
    request = parse_new_order(
        message(
            "D",
            [
                (11, "C1"),
                (583, "C1"),
                (100, "DERIBIT"),
                (48, "BTC-PERPETUAL"),
                (55, "BTC-PERPETUAL"),
                (22, "8"),
                (40, "2"),
                (54, "2"),
                (44, "60000.5"),
                (38, "0.3"),
                (59, "6"),
                (126, "20240724-10:00:00.123456789"),
                (60, "20240724-09:00:00.000"),
            ],
        )
    )
    assert (request.client_order_id, request.exchange, request.security_id) == (
        "C1",
        "DERIBIT",
        "BTC-PERPETUAL",
    )
    assert (request.security_id_source, request.side, request.price, request.quantity) == (
        "8",
        "2",
        "60000.5",
        "0.3",
    )
    assert request.expire_time == datetime(2024, 7, 24, 10, 0, 0, 123456, tzinfo=UTC)


def test_a_malformed_expire_time_is_a_data_format_error() -> None:
    with pytest.raises(fix.IncorrectDataFormat):
        parse_new_order(message("D", [(11, "C1"), (54, "1"), (126, "tomorrow")]))


def test_a_request_without_a_tag_it_must_carry_is_refused_as_quickfix_would() -> None:
    with pytest.raises(fix.FieldNotFound):
        parse_new_order(message("D", [(11, "C1"), (55, "BTC-PERPETUAL")]))


def test_a_cancel_names_the_order_by_41_or_37() -> None:
    request = parse_cancel(message("F", [(11, "X1"), (37, "V1"), (207, "DERIBIT"), (54, "1")]))
    assert (request.request_id, request.orig_client_order_id, request.order_id) == (
        "X1",
        None,
        "V1",
    )
    assert request.exchange == "DERIBIT"
