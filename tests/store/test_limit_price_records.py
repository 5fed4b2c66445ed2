"""Journal rows and the limit price: kept exactly, and rows written before it existed still read
(as orders without a limit)."""

from __future__ import annotations

import json
from decimal import Decimal

import attrs

from sor_daemon.domain.events import OrderAccepted, ParametersChanged
from sor_daemon.store.records import decode, encode
from tests.support.orders import START, params


def test_a_limit_price_comes_back_as_the_very_decimal_that_went_in() -> None:
    limited = attrs.evolve(params(), limit_price=Decimal("66000.50"))
    for event in (
        OrderAccepted("o-1", "TWAP", ("DERIBIT",), limited, START),
        ParametersChanged("o-1", limited, 2, START),
    ):
        _, kind, body = encode(event)
        assert json.loads(body)["params"]["limit_price"] == "66000.50"
        assert decode(kind, body) == event


def test_rows_written_before_limit_prices_still_read() -> None:
    for event in (
        OrderAccepted("o-1", "TWAP", ("DERIBIT",), params(), START),
        ParametersChanged("o-1", params(), 2, START),
    ):
        _, kind, body = encode(event)
        old = json.loads(body)
        old["params"].pop("limit_price")
        assert decode(kind, json.dumps(old)).params.limit_price is None  # type: ignore[union-attr]
        assert decode(kind, json.dumps(old)) == event
