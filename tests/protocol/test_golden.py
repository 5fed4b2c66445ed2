"""Every JSON example of the seed, through the codec, field for field.

Inbound examples are parsed and every field is checked; outbound ones are built from typed values
(or parsed, where the daemon parses them) and dumped, and the decoded JSON must equal the seed's.

Python's datetime keeps microseconds, so a seventh fraction digit of a time is read and dropped and
written as 0 (see ``sor_daemon.protocol.times``). ``at_microseconds`` applies exactly that change
to a seed example before the comparison; nothing else about the seed is adjusted.
"""

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from sor_daemon.protocol.codec import (
    canonical_parameters,
    dump,
    dump_grouped,
    dumps,
    json_number,
    parse_add_body,
    parse_balances,
    parse_orders,
    parse_positions,
    parse_update_body,
    parse_ws_message,
)
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import (
    AddResponse,
    CancelSmartOrder,
    ChangeParameters,
    FillReport,
    FillView,
    HistoryTime,
    NewSmartOrder,
    OrderNewSingleRequest,
    Reject,
    Side,
    SmartOrderParameters,
    SmartOrderView,
    StatusChange,
    StatusChangeData,
    TradeFill,
    TradeRequest,
)
from sor_daemon.protocol.periods import Period
from sor_daemon.protocol.times import parse_history, parse_iso

COMPOSITE_ID = "fddac1f2-d98a-4e5c-9824-8e334039bb81"
SEVEN_DIGITS = re.compile(r"(\.\d{6})\d(Z)")


def at_microseconds(value: Any) -> Any:
    """The seed example with every seventh fraction digit of an ISO time written as 0."""
    return json.loads(SEVEN_DIGITS.sub(r"\g<1>0\2", json.dumps(value)))


def round_trip(message: object) -> Any:
    return json.loads(dumps(message))


# --- GET /requests ------------------------------------------------------------------------------

SEED_REQUESTS = [
    {
        "id": "fb7d3987-fd78-41fa-985e-748a67375b31",
        "status": "Cancelled",
        "statusInfo": "User requested cancel",
        "symbol": "BTC-USD",
        "amount": 20,
        "algorithm": "TWAP",
        "side": "Sell",
        "duration": "5MIN",
        "interval": "30SEC",
        "exchanges": ["DERIBIT"],
        "statusHistory": {"Running": "07/24/2024 09:41:40", "Cancelled": "07/24/2024 09:44:13"},
        "parametersUpdates": {
            "2024-07-24T09:42:14.9062991Z": {
                "side": "sell",
                "symbol": "BTC-USD",
                "symbol_type": "perpetual",
                "amount": "20",
                "duration": "5MIN",
                "interval": "1MIN",
            }
        },
        "fills": [
            {
                "exchange": "DERIBIT",
                "amountFilled": 3.0,
                "price": 66370.5,
                "timeStamp": "2024-07-24T09:41:45.7727049Z",
            },
            {
                "exchange": "DERIBIT",
                "amountFilled": 2.0,
                "price": 66370.5,
                "timeStamp": "2024-07-24T09:42:45.8954363Z",
            },
            {
                "exchange": "DERIBIT",
                "amountFilled": 2.0,
                "price": 66370.5,
                "timeStamp": "2024-07-24T09:43:16.0088651Z",
            },
            {
                "exchange": "DERIBIT",
                "amountFilled": 2.0,
                "price": 66387.5,
                "timeStamp": "2024-07-24T09:43:46.2376039Z",
            },
        ],
    }
]


def test_requests_view_is_the_seed() -> None:
    update = SmartOrderParameters(
        side=Side.SELL,
        symbol="BTC-USD",
        symbol_type="perpetual",
        amount=Decimal(20),
        duration=Period(5, "MIN"),
        interval=Period(1, "MIN"),
    )
    fills = [
        ("3.0", "66370.5", "2024-07-24T09:41:45.7727049Z"),
        ("2.0", "66370.5", "2024-07-24T09:42:45.8954363Z"),
        ("2.0", "66370.5", "2024-07-24T09:43:16.0088651Z"),
        ("2.0", "66387.5", "2024-07-24T09:43:46.2376039Z"),
    ]
    view = SmartOrderView(
        id="fb7d3987-fd78-41fa-985e-748a67375b31",
        status="Cancelled",
        status_info="User requested cancel",
        symbol="BTC-USD",
        amount=Decimal(20),
        algorithm="TWAP",
        side=Side.SELL,
        duration=Period(5, "MIN"),
        interval=Period(30, "SEC"),
        exchanges=("DERIBIT",),
        status_history={
            "Running": HistoryTime(parse_history("07/24/2024 09:41:40")),
            "Cancelled": HistoryTime(parse_history("07/24/2024 09:44:13")),
        },
        parameters_updates={
            parse_iso("2024-07-24T09:42:14.9062991Z"): canonical_parameters(update)
        },
        fills=tuple(
            FillView(
                exchange="DERIBIT",
                amount_filled=Decimal(amount),
                price=Decimal(price),
                time_stamp=parse_iso(stamp),
            )
            for amount, price, stamp in fills
        ),
    )

    assert [round_trip(view)] == at_microseconds(SEED_REQUESTS)
    assert list(dump(view)) == list(SEED_REQUESTS[0])  # the seed's key order, too


def test_requests_view_writes_a_missing_status_info_as_null() -> None:
    view = SmartOrderView(
        id="a",
        status="Running",
        status_info=None,
        symbol="BTC-USD",
        amount=Decimal("2.5"),
        algorithm="TWAP",
        side=Side.BUY,
        duration=Period(1, "HRS"),
        interval=Period(1, "MIN"),
        exchanges=("DERIBIT",),
        status_history={},
        parameters_updates={},
        fills=(),
    )

    written = round_trip(view)

    assert written["statusInfo"] is None
    assert written["amount"] == 2.5
    assert written["side"] == "Buy"


# --- the EMS account: GET /balances, /orders, /positions ----------------------------------------

SEED_BALANCES = {
    "DERIBIT": [
        {
            "id": "BTC",
            "asset_id_exchange": "BTC",
            "asset_id_coinapi": "BTC",
            "balance": 0.00324182,
            "available": 0.00308591,
            "locked": 0.00015591,
            "traded": 0.0,
            "last_updated_by": "EXCHANGE",
            "rate_usd": None,
        }
    ]
}

SEED_ORDERS = {
    "DERIBIT": [
        {
            "id": "79696dc9-70a9-4b4f-b52d-f4a816894268",
            "client_order_id_format_exchange": "79696dc9-70a9-4b4f-b52d-f4a816894268",
            "exchange_order_id": "72327252536",
            "amount_open": 10.0,
            "amount_filled": 0.0,
            "status": "NEW",
            "status_history": [
                ["RECEIVED", "2024-06-28T07:43:53.1499458Z"],
                ["ROUTING", "2024-06-28T07:43:53.2547245Z"],
                ["ROUTED", "2024-06-28T07:43:53.3086465Z"],
                ["NEW", "2024-06-28T07:43:53.3163276Z"],
            ],
            "error_message": None,
            "fills": [],
            "exchange_id": "DERIBIT",
            "client_order_id": "79696dc9-70a9-4b4f-b52d-f4a816894268",
            "symbol_id_exchange": "BTC-PERPETUAL",
            "symbol_id_coinapi": "DERIBIT_PERP_BTC_USD",
            "amount_order": 10.0,
            "price": 61200.0,
            "avg_px": 0.0,
            "side": "BUY",
            "order_type": "LIMIT",
            "time_in_force": "GOOD_TILL_CANCEL",
            "expire_time": None,
            "exec_inst": [],
        }
    ]
}

# The seed cuts raw_data short (and leaves its quotes unescaped); this is the same object whole.
RAW_DATA = (
    '[{"Key":54,"Value":{"Obj":"1","Tag":54}},{"Key":55,"Value":{"Obj":"BTC-PERPETUAL","Tag":55}},'
    '{"Key":95,"Value":{"Obj":"30","Tag":95}},'
    '{"Key":96,"Value":{"Obj":"6.4341e-5;1.2868e-4;1.11354e-4","Tag":96}},'
    '{"Key":231,"Value":{"Obj":"10.0","Tag":231}},{"Key":702,"Value":{"Obj":"1","Tag":702}},'
    '{"Key":703,"Value":{"Obj":"TQ","Tag":703}},{"Key":704,"Value":{"Obj":"40.0","Tag":704}},'
    '{"Key":705,"Value":{"Obj":"0","Tag":705}}]'
)
SEED_POSITIONS = {
    "DERIBIT": [
        {
            "id": "BTC-PERPETUAL",
            "symbol_id_exchange": "BTC-PERPETUAL",
            "symbol_id_coinapi": "DERIBIT_PERP_BTC_USD",
            "avg_entry_price": 61362.86103755,
            "quantity": 40.0,
            "side": "BUY",
            "unrealized_pnl": 0.000111354,
            "leverage": 10.0,
            "cross_margin": False,
            "liquidation_price": 41280.82400315,
            "raw_data": RAW_DATA,
        }
    ]
}


def test_balances_round_trip() -> None:
    balances = parse_balances(SEED_BALANCES)

    [balance] = balances["DERIBIT"]
    assert balance.id == "BTC"
    assert balance.asset_id_exchange == "BTC"
    assert balance.asset_id_coinapi == "BTC"
    assert balance.balance == Decimal("0.00324182")
    assert balance.available == Decimal("0.00308591")
    assert balance.locked == Decimal("0.00015591")
    assert balance.traded == 0
    assert balance.last_updated_by == "EXCHANGE"
    assert balance.rate_usd is None
    assert dump_grouped(balances) == SEED_BALANCES


def test_orders_round_trip() -> None:
    orders = parse_orders(json.dumps(SEED_ORDERS))

    [order] = orders["DERIBIT"]
    assert order.id == "79696dc9-70a9-4b4f-b52d-f4a816894268"
    assert order.client_order_id_format_exchange == order.id
    assert order.exchange_order_id == "72327252536"
    assert order.amount_open == 10
    assert order.amount_filled == 0
    assert order.status == "NEW"
    assert [status for status, _ in order.status_history] == [
        "RECEIVED",
        "ROUTING",
        "ROUTED",
        "NEW",
    ]
    assert order.status_history[0][1] == parse_iso("2024-06-28T07:43:53.149945Z")
    assert order.error_message is None
    assert order.fills == ()
    assert order.exchange_id == "DERIBIT"
    assert order.client_order_id == order.id
    assert order.symbol_id_exchange == "BTC-PERPETUAL"
    assert order.symbol_id_coinapi == "DERIBIT_PERP_BTC_USD"
    assert order.amount_order == 10
    assert order.price == 61200
    assert order.avg_px == 0
    assert order.side is Side.BUY
    assert order.order_type == "LIMIT"
    assert order.time_in_force == "GOOD_TILL_CANCEL"
    assert order.expire_time is None
    assert order.exec_inst == ()
    assert json.loads(json.dumps(dump_grouped(orders))) == at_microseconds(SEED_ORDERS)


def test_order_fills_round_trip() -> None:
    report = dict(SEED_ORDERS["DERIBIT"][0])
    report["fills"] = [{"time": "2024-06-28T07:43:54.1000000Z", "price": 61200.5, "amount": 2}]

    [order] = parse_orders({"DERIBIT": [report]})["DERIBIT"]

    assert order.fills[0].price == Decimal("61200.5")
    assert order.fills[0].amount == 2
    assert dump(order)["fills"] == report["fills"]


def test_positions_round_trip() -> None:
    positions = parse_positions(SEED_POSITIONS)

    [position] = positions["DERIBIT"]
    assert position.id == "BTC-PERPETUAL"
    assert position.symbol_id_exchange == "BTC-PERPETUAL"
    assert position.symbol_id_coinapi == "DERIBIT_PERP_BTC_USD"
    assert position.avg_entry_price == Decimal("61362.86103755")
    assert position.quantity == 40
    assert position.side is Side.BUY
    assert position.unrealized_pnl == Decimal("0.000111354")
    assert position.leverage == 10
    assert position.cross_margin is False
    assert position.liquidation_price == Decimal("41280.82400315")
    assert position.raw_data == RAW_DATA
    assert dump_grouped(positions) == SEED_POSITIONS


# --- REST: POST /add and PUT /update ------------------------------------------------------------

SEED_ADD_REQUEST = {
    "Algorithm": "TWAP",
    "Exchanges": ["DERIBIT"],
    "Parameters": {
        "side": "sell",
        "symbol": "BTC-USD",
        "symbol_type": "perpetual",
        "amount": "29",
        "duration": "1MIN",
        "interval": "5SEC",
    },
}
SEED_ADD_RESPONSE = {
    "type": "New",
    "id": "d574e33e-133f-4bf0-bb8b-9c6294c32d2a",
    "exchanges": ["DERIBIT"],
    "algorithm": "TWAP",
    "parameters": {
        "side": "sell",
        "symbol": "BTC-USD",
        "symbol_type": "perpetual",
        "amount": "29",
        "duration": "1MIN",
        "interval": "5SEC",
    },
}
SEED_UPDATE_BODY = {
    "Id": "string",
    "Parameters": {"amount": "string", "duration": "string", "interval": "string"},
}


def assert_seed_twap(order: NewSmartOrder) -> None:
    """The smart order of the seed's POST /add and WebSocket New examples."""
    assert order.id is None
    assert order.algorithm == "TWAP"
    assert order.exchanges == ("DERIBIT",)
    assert order.parameters == SmartOrderParameters(
        side=Side.SELL,
        symbol="BTC-USD",
        symbol_type="perpetual",
        amount=Decimal(29),
        duration=Period(1, "MIN"),
        interval=Period(5, "SEC"),
    )


def test_add_request_parses() -> None:
    assert_seed_twap(parse_add_body(SEED_ADD_REQUEST))


def test_add_request_parses_from_text() -> None:
    assert_seed_twap(parse_add_body(json.dumps(SEED_ADD_REQUEST).encode()))


def test_add_response_is_the_seed() -> None:
    order = parse_add_body(SEED_ADD_REQUEST)
    response = AddResponse(
        id="d574e33e-133f-4bf0-bb8b-9c6294c32d2a",
        exchanges=order.exchanges,
        algorithm=order.algorithm,
        parameters=order.parameters,
    )

    assert round_trip(response) == SEED_ADD_RESPONSE
    assert list(dump(response)) == list(SEED_ADD_RESPONSE)


def test_canonical_parameters_write_every_value_as_a_string() -> None:
    params = SmartOrderParameters(
        side=Side.BUY,
        symbol="ETH-USD",
        symbol_type="spot",
        amount=Decimal("2.50"),
        duration=Period(1, "DAY"),
        interval=Period(1, "HRS"),
        safety_threshold=Decimal("0.1"),
    )

    assert canonical_parameters(params) == {
        "side": "buy",
        "symbol": "ETH-USD",
        "symbol_type": "spot",
        "amount": "2.5",
        "duration": "1DAY",
        "interval": "1HRS",
        "safety_threshold": "0.1",
    }


def test_update_body_placeholders_are_refused() -> None:
    """The seed's PUT /update body is a schema: ``"string"`` is no amount."""
    with pytest.raises(ProtocolError) as caught:
        parse_update_body(SEED_UPDATE_BODY)

    assert caught.value.reason == "INVALID_PARAMETER"
    assert "amount" in caught.value.message


def test_update_body_parses() -> None:
    body = {
        "Id": "fb7d3987-fd78-41fa-985e-748a67375b31",
        "Parameters": {"amount": "25", "duration": "10MIN", "interval": "1MIN"},
    }

    change = parse_update_body(body)

    assert change.id == "fb7d3987-fd78-41fa-985e-748a67375b31"
    assert change.parameters.amount == 25
    assert change.parameters.duration == Period(10, "MIN")
    assert change.parameters.interval == Period(1, "MIN")
    assert change.parameters.safety_threshold is None


# --- the WebSocket feed -------------------------------------------------------------------------

SEED_WS_NEW = """{
    "type": "New",
\t"Algorithm": "TWAP",
    "Exchanges": ["DERIBIT"],
    "Parameters": {
        "side": "sell",
        "symbol": "BTC-USD",
        "symbol_type": "perpetual",
        "amount": "29",
        "duration": "1MIN",
        "interval": "5SEC"
    }
}"""

SEED_STATUS_RUNNING = {
    "Type": "StatusChange",
    "CompositeId": COMPOSITE_ID,
    "Data": {
        "Id": COMPOSITE_ID,
        "TotalFilled": 0,
        "FillsCount": 0,
        "Status": "Running",
        "Fills": [],
    },
}

SEED_TRADE_REQUEST = {
    "Type": "TradeRequest",
    "CompositeId": COMPOSITE_ID,
    "Data": {
        "type": "ORDER_NEW_SINGLE_REQUEST",
        "exchange_id": "DERIBIT",
        "client_order_id": "04fd0f2c-e53f-4ab8-ae05-e881a4cbafb7",
        "symbol_id_exchange": None,
        "symbol_id_coinapi": "DERIBIT_PERP_BTC_USD",
        "amount_order": 3,
        "price": 66484.5,
        "avg_px": 0,
        "side": "BUY",
        "order_type": "LIMIT",
        "time_in_force": "IMMEDIATE_OR_CANCEL",
        "expire_time": None,
        "exec_inst": [],
    },
}

SEED_TRADE_FILL = {
    "Type": "TradeFill",
    "CompositeId": COMPOSITE_ID,
    "Data": {
        "OrderId": "04fd0f2c-e53f-4ab8-ae05-e881a4cbafb7",
        "Exchange": "DERIBIT",
        "SymbolId": "DERIBIT_PERP_BTC_USD",
        "AmountFilled": 3,
        "Price": 66484.5,
        "Side": "Buy",
        "Status": "FILLED",
        "TimeStamp": "2024-07-24T11:29:59.6384886Z",
    },
}


def seed_fill(order_id: str, amount: int, price: float, side: str, stamp: str) -> dict[str, Any]:
    """One element of a seed StatusChange's Fills, all on DERIBIT's BTC perpetual."""
    return {
        "OrderId": order_id,
        "Exchange": "DERIBIT",
        "SymbolId": "DERIBIT_PERP_BTC_USD",
        "AmountFilled": amount,
        "Price": price,
        "Side": side,
        "Status": "FILLED",
        "TimeStamp": stamp,
    }


COMPLETED_FILLS = [
    ("04fd0f2c-e53f-4ab8-ae05-e881a4cbafb7", 3, 66484.5, "2024-07-24T11:29:59.6384886Z"),
    ("fdb7b32b-ad35-42ea-b65d-3f25f98c03df", 3, 66484.5, "2024-07-24T11:30:09.8103657Z"),
    ("327365c9-62bf-4746-8836-76a7c8126059", 3, 66485, "2024-07-24T11:30:20.0299802Z"),
    ("4c42b8ef-7ab0-43ca-b405-b3145be24aa4", 3, 66485, "2024-07-24T11:30:30.1605334Z"),
    ("c54adf52-488e-4afa-87c3-2250c43970ee", 3, 66485, "2024-07-24T11:30:40.3878383Z"),
    ("2a5fa24b-31f2-4909-831b-da710c059ad8", 5, 66456, "2024-07-24T11:31:00.7103820Z"),
]
SEED_STATUS_COMPLETED = {
    "Type": "StatusChange",
    "CompositeId": COMPOSITE_ID,
    "Data": {
        "Id": COMPOSITE_ID,
        "TotalFilled": 20,
        "FillsCount": 6,
        "Status": "Completed",
        "Fills": [
            seed_fill(oid, amount, price, "Buy", at) for oid, amount, price, at in COMPLETED_FILLS
        ],
    },
}

SEED_CANCEL = """{
  "Type": "cancel",
  "Id": "7287b325-243b-44c5-a3de-63d148bbc04b"
}"""

CANCELLED_ID = "7287b325-243b-44c5-a3de-63d148bbc04b"
CANCELLED_FILLS = [
    ("7431c0d8-61ad-4bb3-81b3-79f25765f98a", 3, 66419, "2024-07-24T11:39:35.9672103Z"),
    ("8b5d8ff1-ed8b-43c6-b237-d5e970c4e3fd", 3, 66414, "2024-07-24T11:39:41.2653974Z"),
    ("d7e1dcbc-60c3-456a-8c26-01995aecbd84", 3, 66414, "2024-07-24T11:39:51.4043702Z"),
]
SEED_STATUS_CANCELLED = {
    "Type": "StatusChange",
    "CompositeId": CANCELLED_ID,
    "Data": {
        "Id": CANCELLED_ID,
        "TotalFilled": 9,
        "FillsCount": 3,
        "Status": "Cancelled",
        "Fills": [
            seed_fill(oid, amount, price, "Sell", at) for oid, amount, price, at in CANCELLED_FILLS
        ],
    },
}


def fill_report(order_id: str, amount: int, price: float, side: Side, stamp: str) -> FillReport:
    return FillReport(
        order_id=order_id,
        exchange="DERIBIT",
        symbol_id="DERIBIT_PERP_BTC_USD",
        amount_filled=Decimal(amount),
        price=Decimal(str(price)),
        side=side,
        status="FILLED",
        time_stamp=parse_iso(stamp),
    )


def status_change(composite_id: str, status: str, fills: list[FillReport]) -> StatusChange:
    return StatusChange(
        composite_id=composite_id,
        data=StatusChangeData(
            id=composite_id,
            total_filled=sum((fill.amount_filled for fill in fills), Decimal(0)),
            fills_count=len(fills),
            status=status,
            fills=tuple(fills),
        ),
    )


def test_ws_new_parses() -> None:
    assert "\t" in SEED_WS_NEW
    order = parse_ws_message(SEED_WS_NEW)

    assert isinstance(order, NewSmartOrder)
    assert_seed_twap(order)


def test_status_running_is_the_seed() -> None:
    message = status_change(COMPOSITE_ID, "Running", [])

    assert round_trip(message) == SEED_STATUS_RUNNING
    assert dumps(message) == json.dumps(SEED_STATUS_RUNNING, separators=(",", ":"))


def test_trade_request_is_the_seed() -> None:
    message = TradeRequest(
        composite_id=COMPOSITE_ID,
        data=OrderNewSingleRequest(
            exchange_id="DERIBIT",
            client_order_id="04fd0f2c-e53f-4ab8-ae05-e881a4cbafb7",
            symbol_id_coinapi="DERIBIT_PERP_BTC_USD",
            amount_order=Decimal(3),
            price=Decimal("66484.5"),
            side=Side.BUY,
            time_in_force="IMMEDIATE_OR_CANCEL",
        ),
    )

    assert round_trip(message) == SEED_TRADE_REQUEST
    assert list(dump(message)["Data"]) == list(SEED_TRADE_REQUEST["Data"])


def test_trade_fill_is_the_seed() -> None:
    oid, amount, price, stamp = COMPLETED_FILLS[0]
    message = TradeFill(
        composite_id=COMPOSITE_ID, data=fill_report(oid, amount, price, Side.BUY, stamp)
    )

    assert round_trip(message) == at_microseconds(SEED_TRADE_FILL)


def test_status_completed_is_the_seed() -> None:
    fills = [fill_report(*fill[:3], Side.BUY, fill[3]) for fill in COMPLETED_FILLS]

    message = status_change(COMPOSITE_ID, "Completed", fills)

    assert round_trip(message) == at_microseconds(SEED_STATUS_COMPLETED)


def test_cancel_parses() -> None:
    assert parse_ws_message(SEED_CANCEL) == CancelSmartOrder(CANCELLED_ID)


def test_status_cancelled_is_the_seed() -> None:
    fills = [fill_report(*fill[:3], Side.SELL, fill[3]) for fill in CANCELLED_FILLS]

    message = status_change(CANCELLED_ID, "Cancelled", fills)

    assert round_trip(message) == at_microseconds(SEED_STATUS_CANCELLED)


def test_status_info_is_written_only_when_set() -> None:
    message = status_change(COMPOSITE_ID, "Running", [])
    informed = StatusChange(
        composite_id=COMPOSITE_ID,
        data=StatusChangeData(
            id=COMPOSITE_ID,
            total_filled=Decimal(0),
            fills_count=0,
            status="Running",
            status_info="waiting for a quote",
        ),
    )

    assert "StatusInfo" not in dump(message)["Data"]
    assert dump(informed)["Data"]["StatusInfo"] == "waiting for a quote"


def test_reject_from_error() -> None:
    raw = "x" * 1500
    reject = Reject.from_error(ProtocolError("JSON_ERROR", "the message is not valid JSON"), raw)

    assert round_trip(reject) == {
        "Type": "Reject",
        "CompositeId": None,
        "Data": {
            "RejectReason": "JSON_ERROR",
            "RejectMessage": "the message is not valid JSON",
            "RejectedMessage": "x" * 1000,
        },
    }


def test_reject_names_the_order() -> None:
    error = ProtocolError("ORDER_ID_NOT_FOUND", "no smart order has the id abc")

    reject = Reject.from_error(error, b'{"type":"Cancel","id":"abc"}', composite_id="abc")

    assert dump(reject)["CompositeId"] == "abc"
    assert dump(reject)["Data"]["RejectedMessage"] == '{"type":"Cancel","id":"abc"}'


# --- the old docs' messages ---------------------------------------------------------------------

OLD_NEW = """{
  "type": "New",
  "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  "exchanges": ["exchange1", "exchange2"],
  "algorithm": "TWAP",
  "parameters": {
    "symbol": "BTC-USD",
    "symbol_type": "spot",
    "side": "Buy",
    "amount": 10,
    "duration": "1DAY",
    "interval": "1HRS"
  }
}"""

OLD_CANCEL = """{
  "type": "Cancel",
  "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"
}"""

OLD_PARAM_CHANGE = """{
  "type": "ParamChange",
  "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  "parameters": {
    "amount": 10,
    "duration": "1DAY",
    "interval": "1HRS"
  }
}"""
OLD_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def test_old_new_parses() -> None:
    assert parse_ws_message(OLD_NEW) == NewSmartOrder(
        id=OLD_ID,
        algorithm="TWAP",
        exchanges=("EXCHANGE1", "EXCHANGE2"),
        parameters=SmartOrderParameters(
            side=Side.BUY,
            symbol="BTC-USD",
            symbol_type="spot",
            amount=Decimal(10),
            duration=Period(1, "DAY"),
            interval=Period(1, "HRS"),
        ),
    )


def test_old_cancel_parses() -> None:
    assert parse_ws_message(OLD_CANCEL) == CancelSmartOrder(OLD_ID)


def test_old_param_change_parses() -> None:
    change = parse_ws_message(OLD_PARAM_CHANGE)

    assert isinstance(change, ChangeParameters)
    assert change.id == OLD_ID
    assert change.parameters.amount == Decimal(10)
    assert change.parameters.duration == Period(1, "DAY")
    assert change.parameters.interval == Period(1, "HRS")
    assert change.parameters.safety_threshold is None


# --- casings and number forms -------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        {
            "TYPE": "new",
            "ALGORITHM": "twap",
            "exchanges": ["deribit"],
            "PARAMETERS": {
                "SIDE": "SELL",
                "Symbol": "btc-usd",
                "Symbol_Type": "PERPETUAL",
                "Amount": 29,
                "DURATION": "1min",
                "Interval": "5sec",
            },
        },
        {
            "Type": "NEW",
            "Algorithm": "Twap",
            "EXCHANGES": ["Deribit"],
            "parameters": {
                "side": "Sell",
                "symbol": "BTC-USD",
                "symbol_type": "perpetual",
                "amount": "29.0",
                "duration": "1MIN",
                "interval": "5SEC",
            },
        },
    ],
    ids=["upper-keys-number-amount", "mixed-keys-string-amount"],
)
def test_any_casing_parses_to_the_same_order(message: dict[str, Any]) -> None:
    assert_seed_twap(parse_ws_message(json.dumps(message)))


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("new", NewSmartOrder),
        ("NEW", NewSmartOrder),
        ("cancel", CancelSmartOrder),
        ("Cancel", CancelSmartOrder),
        ("paramchange", ChangeParameters),
        ("PARAMCHANGE", ChangeParameters),
    ],
)
def test_type_value_in_any_casing(kind: str, expected: type) -> None:
    bodies = {
        NewSmartOrder: json.loads(OLD_NEW),
        CancelSmartOrder: json.loads(OLD_CANCEL),
        ChangeParameters: json.loads(OLD_PARAM_CHANGE),
    }
    message = bodies[expected] | {"type": kind}

    assert isinstance(parse_ws_message(json.dumps(message)), expected)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(10, Decimal(10)), ("10", Decimal(10)), (2.5, Decimal("2.5")), ("0.001", Decimal("0.001"))],
)
def test_amount_as_number_or_string(amount: object, expected: Decimal) -> None:
    message = json.loads(OLD_NEW)
    message["parameters"]["amount"] = amount

    order = parse_ws_message(json.dumps(message))

    assert isinstance(order, NewSmartOrder)
    assert order.parameters.amount == expected


def test_safety_threshold_is_read_and_echoed() -> None:
    body = json.loads(json.dumps(SEED_ADD_REQUEST))
    body["Parameters"]["Safety_Threshold"] = 0.25

    order = parse_add_body(body)

    assert order.parameters.safety_threshold == Decimal("0.25")
    assert canonical_parameters(order.parameters)["safety_threshold"] == "0.25"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal(20), 20),
        (Decimal("3.0"), 3),
        (Decimal("1E+2"), 100),
        (Decimal("2.5"), 2.5),
        (Decimal("0.00324182"), 0.00324182),
    ],
)
def test_json_number_is_an_int_when_integral(value: Decimal, expected: float) -> None:
    written = json_number(value)

    assert written == expected
    assert type(written) is type(expected)
