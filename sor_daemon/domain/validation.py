"""Checks a new smart order must pass that need the instrument table, not just the wire."""

from __future__ import annotations

from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.domain.smart_order import check_amount_tradable
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import NewSmartOrder

SUPPORTED_ALGORITHMS = ("TWAP", "VWAP")


def instruments_for(request: NewSmartOrder, table: InstrumentTable) -> list[Instrument]:
    """The instrument on each listed venue, in the order listed; raises ProtocolError if any
    venue is unknown, does not trade the symbol, or could not trade the amount exactly."""
    if request.algorithm not in SUPPORTED_ALGORITHMS:
        raise ProtocolError(
            "INVALID_PARAMETER",
            f"algorithm {request.algorithm!r} is not supported; use one of "
            f"{', '.join(SUPPORTED_ALGORITHMS)}",
        )
    params = request.parameters
    instruments = []
    for exchange in request.exchanges:
        if exchange not in table.exchanges:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"exchange {exchange!r} is unknown; known exchanges are "
                f"{', '.join(sorted(table.exchanges))}",
            )
        instrument = table.find(exchange, params.symbol, params.symbol_type)
        if instrument is None:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"{exchange} does not trade {params.symbol} {params.symbol_type}",
            )
        instruments.append(instrument)
    check_amount_tradable(params.amount, instruments)
    return instruments
