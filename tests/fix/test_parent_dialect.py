"""FIX order entry's dialect on messages built field by field: what reads as a smart order, what
is refused and with which sentence, and what the reports carry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import quickfix as fix

from sor_daemon.fix.dialect import new_message, timestamp
from sor_daemon.fix.parent_dialect import (
    AmendParent,
    CancelParent,
    Echo,
    ExecType,
    NewParent,
    OrdStatus,
    ParentReport,
    Peer,
    Refused,
    Unsupported,
    business_reject,
    cancel_reject,
    execution_report,
    read_request,
)
from sor_daemon.protocol.messages import Side
from sor_daemon.protocol.periods import Period
from tests.sim.fix_client import parse

PEER = Peer("SOR", "DESK1")
SCHEDULE = (("Duration", "3MIN"), ("Interval", "1MIN"))
TWAP: dict[int, str] = {
    11: "d-1",
    55: "BTC-USD",
    54: "1",
    38: "0.5",
    40: "1",
    847: "1001",
    100: "DERIBIT",
    167: "perpetual",
}


def message(
    msg_type: str,
    fields: dict[int, str | None],
    parameters: Sequence[tuple[str, str | None]] = (),
) -> fix.Message:
    """A message from DESK1 to SOR (MsgSeqNum 7); a None field is left out, and so is the
    StrategyParameterValue of a None parameter."""
    built = new_message(msg_type)
    header = built.getHeader()
    header.setField(49, PEER.theirs)
    header.setField(56, PEER.ours)
    header.setField(34, "7")
    for tag, value in fields.items():
        if value is not None:
            built.setField(tag, value)
    for name, value in parameters:
        group = fix.Group(957, 958)
        group.setField(958, name)
        group.setField(959, "14")
        if value is not None:
            group.setField(960, value)
        built.addGroup(group)
    return built


def in_seconds(seconds: int) -> str:
    return timestamp(datetime.now(UTC) + timedelta(seconds=seconds))


def test_a_twap_new_order_single_reads_as_a_smart_order() -> None:
    request = read_request(message("D", TWAP, SCHEDULE))
    assert isinstance(request, NewParent)
    assert (request.peer, request.cl_ord_id) == (PEER, "d-1")
    assert request.echo == Echo("BTC-USD", Side.BUY, Decimal("0.5"))
    order = request.order
    assert (order.id, order.algorithm, order.exchanges) == ("d-1", "TWAP", ("DERIBIT",))
    params = order.parameters
    assert (params.side, params.symbol, params.symbol_type) == (Side.BUY, "BTC-USD", "perpetual")
    assert params.amount == Decimal("0.5")
    assert (params.duration, params.interval) == (Period.parse("3MIN"), Period.parse("1MIN"))
    assert params.safety_threshold is None


def test_a_vwap_takes_its_venues_type_and_threshold_as_parameters_and_expire_time() -> None:
    fields = {**TWAP, 847: "1", 54: "2", 38: "1", 100: None, 167: None, 126: in_seconds(120)}
    parameters = [
        ("Interval", "10SEC"),
        ("safetythreshold", "0.5"),
        ("EXCHANGES", "BINANCE, DERIBIT"),
        ("SymbolType", "perpetual"),
    ]
    request = read_request(message("D", fields, parameters))
    assert isinstance(request, NewParent)
    order = request.order
    assert (order.algorithm, order.exchanges) == ("VWAP", ("BINANCE", "DERIBIT"))
    params = order.parameters
    assert (params.side, params.amount, params.safety_threshold) == (
        Side.SELL,
        Decimal(1),
        Decimal("0.5"),
    )
    assert params.interval == Period.parse("10SEC")
    assert 118 <= params.duration.seconds <= 120  # ExpireTime less the time to read it


@pytest.mark.parametrize(
    ("fields", "parameters", "text"),
    [
        ({847: None}, SCHEDULE, "TargetStrategy (847) is required"),
        ({847: "7"}, SCHEDULE, "TargetStrategy (847) 7 is not offered"),
        ({40: "3"}, SCHEDULE, "OrdType (40) 3 is not accepted"),
        ({54: "9"}, SCHEDULE, "Side (54) 9 is not accepted"),
        ({38: None}, SCHEDULE, "OrderQty (38) is required"),
        ({38: "0"}, SCHEDULE, "amount"),
        ({167: None}, SCHEDULE, "symbol type is required"),
        ({100: None}, SCHEDULE, "venues are required"),
        ({}, (*SCHEDULE, ("Exchanges", "BINANCE")), "not both"),
        ({}, (*SCHEDULE, ("Colour", "red")), "'Colour' is unknown"),
        ({}, (*SCHEDULE, ("duration", "5MIN")), "Duration is given twice"),
        ({}, (*SCHEDULE, ("SafetyThreshold", None)), "SafetyThreshold has no"),
        ({}, (*SCHEDULE, ("SafetyThreshold", "2")), "safety_threshold"),
        ({}, (("Interval", "1MIN"),), "the duration parameter is required"),
        ({}, (("Duration", "3MIN"), ("Interval", "1PARSEC")), "period"),
        ({126: in_seconds(-60)}, (("Interval", "1MIN"),), "ExpireTime (126)"),
        (
            {126: in_seconds(600), 168: in_seconds(300)},
            (("Interval", "1MIN"),),
            "EffectiveTime (168) is in the future",
        ),
    ],
)
def test_a_new_order_single_that_is_no_smart_order_is_refused_with_a_reason(
    fields: dict[int, str | None], parameters: Sequence[tuple[str, str | None]], text: str
) -> None:
    request = read_request(message("D", {**TWAP, **fields}, parameters))
    assert isinstance(request, Refused), request
    assert (request.peer, request.cl_ord_id) == (PEER, "d-1")
    assert text in request.text
    assert request.echo.symbol == "BTC-USD"


def test_a_cancel_names_the_order_by_orig_cl_ord_id_and_perhaps_order_id() -> None:
    by_clordid = read_request(message("F", {11: "f-1", 41: "d-1", 55: "BTC-USD", 54: "1"}))
    assert by_clordid == CancelParent(PEER, "f-1", "d-1", None)
    by_both = read_request(message("F", {11: "f-2", 41: "g-1", 37: "d-1"}))
    assert by_both == CancelParent(PEER, "f-2", "g-1", "d-1")


def test_an_amend_carries_the_new_quantity_and_schedule() -> None:
    fields = {11: "g-1", 41: "d-1", 37: "d-1", 38: "2", 40: "1", 55: "BTC-USD", 54: "1"}
    request = read_request(message("G", fields, (("Duration", "5MIN"), ("Interval", "30SEC"))))
    assert isinstance(request, AmendParent)
    assert (request.peer, request.cl_ord_id, request.orig_cl_ord_id, request.order_id) == (
        PEER,
        "g-1",
        "d-1",
        "d-1",
    )
    assert request.order_qty == Decimal(2)
    assert request.parameters == {"Duration": "5MIN", "Interval": "30SEC"}
    assert (request.expire_time, request.error) == (None, None)
    expiring = read_request(message("G", {**fields, 126: "20300101-00:00:00.000"}))
    assert isinstance(expiring, AmendParent)
    assert expiring.expire_time == datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "parameters", "text"),
    [
        ({}, (("Exchanges", "BINANCE"),), "the Exchanges parameter cannot be amended"),
        ({}, (("SymbolType", "spot"),), "the SymbolType parameter cannot be amended"),
        ({126: "20300101-00:00:00.000"}, (("Duration", "5MIN"),), "not both"),
        ({}, (("Speed", "fast"),), "'Speed' is unknown"),
    ],
)
def test_an_amend_that_cannot_be_read_carries_the_reason(
    fields: dict[int, str | None], parameters: Sequence[tuple[str, str | None]], text: str
) -> None:
    base: dict[int, str | None] = {11: "g-1", 41: "d-1", 38: "2", 40: "1"}
    request = read_request(message("G", {**base, **fields}, parameters))
    assert isinstance(request, AmendParent)
    assert request.error is not None and text in request.error


def test_other_messages_and_cancels_without_orig_cl_ord_id_are_unsupported() -> None:
    assert read_request(message("H", {11: "h-1"})) == Unsupported(PEER, "H", "7")
    assert read_request(message("F", {11: "f-1"})) == Unsupported(PEER, "F", "7")


def report(**changes: object) -> ParentReport:
    values: dict[str, object] = {
        "order_id": "d-1",
        "cl_ord_id": "g-1",
        "exec_type": ExecType.TRADE,
        "ord_status": OrdStatus.PARTIALLY_FILLED,
        "echo": Echo("BTC-USD", Side.SELL, Decimal("2.50")),
        "cum_qty": Decimal("1.0"),
        "leaves_qty": Decimal("1.5"),
        "avg_px": Decimal("66400.250"),
        "at": datetime(2024, 7, 24, 9, 42, 14, 906000, tzinfo=UTC),
        **changes,
    }
    return ParentReport(**values)  # type: ignore[arg-type]


def test_an_execution_report_carries_the_totals_in_plain_decimals() -> None:
    fields = parse(
        execution_report(
            report(
                orig_cl_ord_id="d-1",
                last_qty=Decimal("0.50"),
                last_px=Decimal("66400"),
                algorithm="TWAP",
                text="partly",
            )
        ).toString()
    )
    assert fields[35] == "8"
    expected = {37: "d-1", 11: "g-1", 41: "d-1", 150: "F", 39: "1", 55: "BTC-USD", 54: "2"}
    assert {tag: fields[tag] for tag in expected} == expected
    assert (fields[38], fields[14], fields[151], fields[6]) == ("2.5", "1", "1.5", "66400.25")
    assert (fields[32], fields[31], fields[847]) == ("0.5", "66400", "1001")
    assert (fields[60], fields[58]) == ("20240724-09:42:14.906", "partly")
    assert len(fields[17]) == 32


def test_an_execution_report_leaves_out_what_it_does_not_know() -> None:
    fields = parse(execution_report(report(cum_qty=Decimal(0), avg_px=Decimal(0))).toString())
    assert (fields[14], fields[6]) == ("0", "0")
    assert not {41, 32, 31, 847, 58} & fields.keys()
    assert execution_report(report()).getField(17) != execution_report(report()).getField(17)


def test_a_cancel_reject_answers_a_cancel_or_a_replace() -> None:
    fields = parse(
        cancel_reject(
            order_id=None,
            cl_ord_id="f-9",
            orig_cl_ord_id="nope",
            ord_status=OrdStatus.REJECTED,
            replace=False,
            reason="1",
            text="no order with ClOrdID nope on this session",
        ).toString()
    )
    assert (fields[35], fields[37], fields[11], fields[41]) == ("9", "NONE", "f-9", "nope")
    assert (fields[39], fields[434], fields[102]) == ("8", "1", "1")
    assert fields[58] == "no order with ClOrdID nope on this session"
    replace = parse(
        cancel_reject(
            order_id="d-1",
            cl_ord_id="g-2",
            orig_cl_ord_id="g-1",
            ord_status=OrdStatus.FILLED,
            replace=True,
            reason="0",
            text="too late",
        ).toString()
    )
    assert (replace[37], replace[39], replace[434], replace[102]) == ("d-1", "2", "2", "0")


def test_a_business_reject_names_the_message_type_refused() -> None:
    fields = parse(business_reject(Unsupported(PEER, "H", "7")).toString())
    assert (fields[35], fields[45], fields[372], fields[380]) == ("j", "7", "H", "3")
    assert "send D (new), F (cancel) or G (amend)" in fields[58]
