"""When the simulator handed each fill report to quickfix, for fill-to-screen latency.

Every ExecutionReport with ExecType Trade is stamped with the wall clock (``time.time()``) just
before ``sendToTarget``, keyed by its ClOrdID and the CumQty it reports. A daemon's TradeFill
names the child order (``OrderId``) and the amount of one fill, whose running sum per child is
that CumQty, so a client on the same host can match the moment a report left the simulator with
the moment its TradeFill reached it. ``GET /v1/sim/fill-times`` serves the stamps.

One dict entry per report: cheap enough to keep for a whole run. Written on quickfix's and the
ticker's threads (under the acceptor's dispatch lock), read on the Trio thread; a single dict
assignment and a ``list(dict.items())`` copy are each atomic under the GIL.
"""

from __future__ import annotations

from decimal import Decimal

import attrs


@attrs.frozen
class FillTime:
    """One fill report: the order, the CumQty it reported, when it was handed to quickfix."""

    client_order_id: str
    cum_qty: Decimal
    sent_at: float


class FillTimes:
    """The send time of every fill report, the first send of each (ClOrdID, CumQty)."""

    def __init__(self) -> None:
        self._sent: dict[tuple[str, Decimal], float] = {}

    def record(self, client_order_id: str, cum_qty: Decimal, sent_at: float) -> None:
        """Remember when the report of ``client_order_id`` at ``cum_qty`` went out; a copy sent
        again (the duplicate fault modes) keeps the first time."""
        self._sent.setdefault((client_order_id, cum_qty), sent_at)

    def all(self) -> list[FillTime]:
        """Every stamp so far, in the order the reports were sent."""
        return [FillTime(order_id, cum, at) for (order_id, cum), at in list(self._sent.items())]
