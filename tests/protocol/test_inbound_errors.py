"""Bad inbound input: each is refused with the right reason and a sentence naming the field."""

import json
from typing import Any

import pytest

from sor_daemon.protocol.codec import (
    parse_add_body,
    parse_balances,
    parse_update_body,
    parse_ws_message,
)
from sor_daemon.protocol.errors import ProtocolError


def new_order(**parameters: Any) -> dict[str, Any]:
    """A valid New message, with ``parameters`` replaced (None removes one)."""
    params = {
        "side": "sell",
        "symbol": "BTC-USD",
        "symbol_type": "perpetual",
        "amount": "29",
        "duration": "5MIN",
        "interval": "1MIN",
    } | parameters
    return {
        "type": "New",
        "Algorithm": "TWAP",
        "Exchanges": ["DERIBIT"],
        "Parameters": {key: value for key, value in params.items() if value is not None},
    }


def refused(text: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_ws_message(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "reason", "named"),
    [
        ("{", "JSON_ERROR", "JSON"),
        ("", "JSON_ERROR", "JSON"),
        (b"\xff\xfe", "JSON_ERROR", "JSON"),
        ("[" * 100_000, "JSON_ERROR", "JSON"),
        ("[1, 2]", "JSON_ERROR", "object"),
        ('"New"', "JSON_ERROR", "object"),
        ("null", "JSON_ERROR", "object"),
        ('{"id": "a"}', "INVALID_TYPE", "type"),
        ('{"type": null, "id": "a"}', "INVALID_TYPE", "type"),
        ('{"type": "Delete", "id": "a"}', "INVALID_TYPE", "Delete"),
        ('{"type": 3, "id": "a"}', "INVALID_TYPE", "type"),
        ('{"type": "Cancel", "Type": "New", "id": "a"}', "INVALID_PARAMETER", "type"),
    ],
    ids=[
        "truncated",
        "empty",
        "not-utf8",
        "too-deep",
        "array",
        "string",
        "null",
        "missing-type",
        "null-type",
        "unknown-type",
        "number-type",
        "type-twice",
    ],
)
def test_envelope_errors(text: str | bytes, reason: str, named: str) -> None:
    error = refused(text)

    assert error.reason == reason
    assert named in error.message


def test_unknown_type_lists_the_known_ones() -> None:
    error = refused('{"type": "Delete"}')

    assert all(name in error.message for name in ("New", "Cancel", "ParamChange"))


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": -1}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "1e99"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": [1]}, "amount"),
        ({"amount": None}, "amount"),
        ({"side": "hold"}, "side"),
        ({"side": 1}, "side"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": 5}, "symbol"),
        ({"symbol_type": "  "}, "symbol_type"),
        ({"duration": "5XYZ"}, "duration"),
        ({"duration": "0SEC"}, "duration"),
        ({"duration": 5}, "duration"),
        ({"interval": "1MINUTE"}, "interval"),
        ({"interval": "10MIN"}, "interval"),
        ({"safety_threshold": "0"}, "safety_threshold"),
        ({"safety_threshold": 1.5}, "safety_threshold"),
        ({"speed": "fast"}, "speed"),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else value,
)
def test_bad_parameters(parameters: dict[str, Any], named: str) -> None:
    error = refused(json.dumps(new_order(**parameters)))

    assert error.reason == "INVALID_PARAMETER"
    assert named in error.message


def test_nan_literal_is_refused() -> None:
    text = json.dumps(new_order()).replace('"29"', "NaN")

    error = refused(text)

    assert error.reason == "INVALID_PARAMETER"
    assert "amount" in error.message


def test_interval_longer_than_duration_says_both() -> None:
    error = refused(json.dumps(new_order(duration="5MIN", interval="10MIN")))

    assert error.message == "interval 10MIN is longer than duration 5MIN"


def test_unknown_parameter_lists_the_accepted_ones() -> None:
    error = refused(json.dumps(new_order(speed="fast")))

    assert "'speed'" in error.message
    assert all(
        name in error.message
        for name in ("side", "symbol", "symbol_type", "amount", "duration", "interval")
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"Algorithm": None}, "Algorithm"),
        ({"Parameters": None}, "Parameters"),
        ({"Algorithm": ""}, "algorithm"),
        ({"Exchanges": []}, "exchanges"),
        ({"Exchanges": "DERIBIT"}, "exchanges"),
        ({"Exchanges": ["DERIBIT", "deribit"]}, "DERIBIT"),
        ({"Exchanges": ["DERIBIT", ""]}, "exchanges"),
        ({"Parameters": "amount=5"}, "parameters"),
        ({"id": ""}, "id"),
        ({"id": "has space"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"id": 7}, "id"),
        ({"Venue": "DERIBIT"}, "Venue"),
        ({"ID": "a", "Id": "b"}, "id"),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else value,
)
def test_bad_new_fields(change: dict[str, Any], named: str) -> None:
    """``None`` in ``change`` removes that key."""
    message = new_order() | change
    message = {key: value for key, value in message.items() if value is not None}

    error = refused(json.dumps(message))

    assert error.reason == "INVALID_PARAMETER"
    assert named.lower() in error.message.lower()


def test_missing_parameters_are_named() -> None:
    message = new_order()
    del message["Parameters"]

    assert "parameters" in refused(json.dumps(message)).message


def test_missing_required_parameter_is_named() -> None:
    error = refused(json.dumps(new_order(amount=None)))

    assert error.reason == "INVALID_PARAMETER"
    assert "amount" in error.message


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ({"type": "Cancel"}, "id"),
        ({"type": "Cancel", "id": None}, "id"),
        ({"type": "Cancel", "id": "a/b"}, "id"),
        ({"type": "Cancel", "id": "a", "reason": "x"}, "reason"),
        ({"type": "ParamChange", "id": "a"}, "parameters"),
        ({"type": "ParamChange", "id": "a", "parameters": {}}, "at least one"),
        ({"type": "ParamChange", "id": "a", "parameters": {"amount": None}}, "at least one"),
        ({"type": "ParamChange", "id": "a", "parameters": {"side": "buy"}}, "side"),
        ({"type": "ParamChange", "id": "a", "parameters": {"amount": "-5"}}, "amount"),
        (
            {
                "type": "ParamChange",
                "id": "a",
                "parameters": {"duration": "1MIN", "interval": "2MIN"},
            },
            "interval 2MIN is longer than duration 1MIN",
        ),
    ],
    ids=[
        "cancel-without-id",
        "cancel-null-id",
        "cancel-bad-id",
        "cancel-unknown-key",
        "change-without-parameters",
        "change-nothing",
        "change-only-nulls",
        "change-side",
        "change-negative-amount",
        "change-interval-over-duration",
    ],
)
def test_bad_cancel_and_change(message: dict[str, Any], named: str) -> None:
    error = refused(json.dumps(message))

    assert error.reason == "INVALID_PARAMETER"
    assert named in error.message


def test_change_of_interval_alone_is_left_to_the_order() -> None:
    """Only the running order knows its duration; the codec cannot refuse this one."""
    change = parse_ws_message(
        '{"type": "ParamChange", "id": "a", "parameters": {"interval": "1DAY"}}'
    )

    assert str(change.parameters.interval) == "1DAY"


@pytest.mark.parametrize(
    ("body", "reason", "named"),
    [
        ("not json", "JSON_ERROR", "JSON"),
        ([], "JSON_ERROR", "object"),
        ({"type": "Cancel"}, "INVALID_TYPE", "New"),
        ({"Algorithm": "TWAP", "Exchanges": ["DERIBIT"]}, "INVALID_PARAMETER", "parameters"),
    ],
)
def test_bad_add_body(body: object, reason: str, named: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_add_body(body)

    assert caught.value.reason == reason
    assert named in caught.value.message


def test_add_body_may_say_it_is_new() -> None:
    body = new_order()
    del body["type"]

    assert parse_add_body(body).algorithm == "TWAP"
    assert parse_add_body(body | {"TYPE": "new"}).algorithm == "TWAP"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"Parameters": {"amount": "5"}}, "id"),
        ({"Id": "a", "Parameters": {}}, "at least one"),
        ({"Id": "a", "Parameters": {"amount": "5"}, "type": "New"}, "ParamChange"),
    ],
)
def test_bad_update_body(body: object, named: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_update_body(body)

    assert named in caught.value.message


def test_bad_ems_data_names_the_field() -> None:
    balances = {
        "DERIBIT": [
            {
                "id": "BTC",
                "asset_id_exchange": "BTC",
                "balance": "lots",
                "available": 1,
                "locked": 0,
                "traded": 0,
                "last_updated_by": "EXCHANGE",
            }
        ]
    }

    with pytest.raises(ProtocolError) as caught:
        parse_balances(balances)

    assert "balance" in caught.value.message
    assert "DERIBIT" in caught.value.message
