"""Compact JSON text: orjson's, and the standard library's for what orjson refuses."""

from __future__ import annotations

import json
from decimal import Decimal

import orjson

from sor_daemon.jsontext import compact_json


def test_values_come_out_compact_and_read_back_the_same() -> None:
    value = {"Type": "TradeFill", "Quantity": 0.25, "Tags": ["a", "ü"], "Count": 3}
    text = compact_json(value)
    assert " " not in text
    assert json.loads(text) == value


def test_an_integer_beyond_64_bits_still_encodes() -> None:
    assert json.loads(compact_json({"amount": 10**30})) == {"amount": 10**30}


def test_keys_that_are_not_strings_and_values_json_cannot_hold() -> None:
    assert json.loads(compact_json({1: Decimal("1.5")}, default=str)) == {"1": "1.5"}
    assert json.loads(compact_json({2: 10**30, 3: Decimal("2")}, default=str)) == {
        "2": 10**30,
        "3": "2",
    }


def test_encoded_text_is_included_as_it_is_by_either_encoder() -> None:
    fills = orjson.Fragment('[{"Price":1.5},{"Price":2}]')
    assert compact_json({"Fills": fills}) == '{"Fills":[{"Price":1.5},{"Price":2}]}'
    assert json.loads(compact_json({"Fills": fills, "Total": 10**30})) == {
        "Fills": [{"Price": 1.5}, {"Price": 2}],
        "Total": 10**30,
    }
