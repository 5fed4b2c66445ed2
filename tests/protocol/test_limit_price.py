"""The ``limit_price`` parameter on the wire: read in New and ParamChange (as a string or a
number, named as the seed names its parameters or in camelCase), refused with a sentence when it
is not a price above 0, and echoed where the other parameters are."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from sor_daemon.protocol.codec import dump, parse_add_body, parse_update_body, parse_ws_message
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import (
    AddResponse,
    ChangeParameters,
    Side,
    SmartOrderView,
)
from sor_daemon.protocol.periods import Period


def add_body(**extra: Any) -> dict[str, Any]:
    return {
        "Algorithm": "TWAP",
        "Exchanges": ["DERIBIT"],
        "Parameters": {
            "side": "buy",
            "symbol": "BTC-USD",
            "symbol_type": "perpetual",
            "amount": "2",
            "duration": "1MIN",
            "interval": "10SEC",
            **extra,
        },
    }


@pytest.mark.parametrize(
    "given",
    [{"limit_price": "66000.5"}, {"limitPrice": "66000.5"}, {"LIMITPRICE": 66000.5}],
    ids=["seed-casing", "camel-case", "number"],
)
def test_a_new_order_takes_a_limit_price(given: dict[str, Any]) -> None:
    order = parse_add_body(add_body(**given))
    assert order.parameters.limit_price == Decimal("66000.5")


def test_without_a_limit_price_an_order_has_none_and_echoes_none() -> None:
    order = parse_add_body(add_body())
    assert order.parameters.limit_price is None
    assert "limit_price" not in dump(order.parameters)


def test_the_limit_price_is_echoed_as_a_string_like_the_amount() -> None:
    order = parse_add_body(add_body(limitPrice=66000.50))
    response = AddResponse(
        id="a", exchanges=order.exchanges, algorithm=order.algorithm, parameters=order.parameters
    )
    parameters = dump(response)["parameters"]
    assert (parameters["amount"], parameters["limit_price"]) == ("2", "66000.5")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0", "limit_price must be greater than 0, got '0'"),
        (-1, "limit_price must be greater than 0, got -1"),
        ("cheap", "limit_price 'cheap' is not a number"),
        ("NaN", "limit_price 'NaN' is not a finite number"),
        (True, "limit_price True is not a number"),
    ],
)
def test_a_bad_limit_price_is_refused_with_a_sentence(value: object, says: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_ws_message(json.dumps({"type": "New", **add_body(limit_price=value)}))
    assert caught.value.reason == "INVALID_PARAMETER"
    assert caught.value.message.startswith(says), caught.value.message


def test_a_limit_price_given_twice_is_refused() -> None:
    with pytest.raises(ProtocolError, match="limit_price twice"):
        parse_add_body(add_body(limit_price="1", limitPrice="2"))


def test_a_param_change_may_set_only_the_limit_price() -> None:
    message = parse_ws_message(
        json.dumps({"type": "ParamChange", "id": "a", "parameters": {"limitPrice": "65000"}})
    )
    assert isinstance(message, ChangeParameters)
    assert message.parameters.limit_price == Decimal(65000)
    assert message.parameters.amount is None


def test_a_bad_limit_price_in_an_update_is_refused() -> None:
    with pytest.raises(ProtocolError, match="limit_price must be greater than 0"):
        parse_update_body({"Id": "a", "Parameters": {"limit_price": "-3"}})


def test_an_update_without_any_change_names_the_limit_price_among_the_choices() -> None:
    with pytest.raises(ProtocolError, match="safety_threshold, limit_price"):
        parse_update_body({"Id": "a", "Parameters": {}})


def test_the_view_shows_the_limit_as_limit_price_and_only_when_set() -> None:
    def view(limit: Decimal | None) -> dict[str, Any]:
        return dump(
            SmartOrderView(
                id="a",
                status="Running",
                status_info=None,
                symbol="BTC-USD",
                amount=Decimal(2),
                algorithm="TWAP",
                side=Side.BUY,
                duration=Period.parse("1MIN"),
                interval=Period.parse("10SEC"),
                exchanges=("DERIBIT",),
                status_history={},
                parameters_updates={datetime(2024, 7, 24, tzinfo=UTC): {"limit_price": "66000"}},
                fills=(),
                limit_price=limit,
            )
        )

    assert view(Decimal(66000))["limitPrice"] == 66000
    assert "limitPrice" not in view(None)
