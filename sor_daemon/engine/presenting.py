"""Smart orders as the protocol shows them: the feed's messages and the REST views.

Feed messages are encoded once here, as text, and the feed hands the same text to every
subscriber. A StatusChange carries every fill so far: a runner keeps its order's fills encoded
(``FeedFills``), so that a status change costs a join of their texts, not their encoding.
"""

from __future__ import annotations

import attrs
import orjson

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import Fill
from sor_daemon.jsontext import compact_json
from sor_daemon.protocol.codec import canonical_parameters, dump, dumps
from sor_daemon.protocol.messages import (
    ExecutionQualityView,
    FillReport,
    FillView,
    HistoryTime,
    MarketSampleView,
    OrderNewSingleRequest,
    SmartOrderView,
    StatusChange,
    StatusChangeData,
    TradeFill,
    TradeRequest,
)

TIME_IN_FORCE = "IMMEDIATE_OR_CANCEL"
DATA, FILLS = "Data", "Fills"
"""The feed's keys of a message's data and of a StatusChange's fills (the seed's spelling)."""


def fill_report(fill: Fill) -> FillReport:
    """A fill as the feed reports it."""
    return FillReport(
        order_id=fill.child_id,
        exchange=fill.exchange,
        symbol_id=fill.symbol_id,
        amount_filled=fill.quantity,
        price=fill.price,
        side=fill.side,
        status=fill.child_status.value,
        time_stamp=fill.at,
    )


class FeedFills:
    """One order's fills as the feed writes them, each encoded once, in the order booked.

    Encoded afresh at every StatusChange, a 600-fill order's fills took 3.6 ms of the Trio
    thread, and a thousand long orders ending together with a dashboard watching took seconds.
    A fill is kept encoded when its TradeFill is; fills booked while no one watched (nothing was
    encoded then) are encoded at the next StatusChange. Kept as long as the order's runner."""

    __slots__ = ("_texts",)

    def __init__(self) -> None:
        self._texts: list[str] = []

    def trade_fill(self, order: SmartOrder, fill: Fill) -> str:
        """The encoded TradeFill of ``fill``, the fill ``order`` booked last."""
        message = dump(TradeFill(composite_id=fill.order_id, data=fill_report(fill)))
        report = compact_json(message[DATA])
        if len(self._texts) == len(order.fills) - 1:
            self._texts.append(report)
        return compact_json({**message, DATA: orjson.Fragment(report)})

    def every_fill(self, order: SmartOrder) -> orjson.Fragment:
        """Every fill of ``order`` so far, as the encoded JSON array a StatusChange holds."""
        for fill in order.fills[len(self._texts) :]:
            self._texts.append(dumps(fill_report(fill)))
        return orjson.Fragment(f"[{','.join(self._texts)}]")


def status_change(order: SmartOrder, fills: FeedFills | None = None) -> str:
    """The encoded StatusChange with the order's status and every fill so far (from ``fills``
    where its runner keeps them encoded)."""
    message = dump(
        StatusChange(
            composite_id=order.id,
            data=StatusChangeData(
                id=order.id,
                total_filled=order.filled,
                fills_count=len(order.fills),
                status=order.status.value,
                status_info=order.status_info,
            ),
        )
    )
    message[DATA][FILLS] = (fills or FeedFills()).every_fill(order)
    return compact_json(message)


def trade_request(child: ChildPlanned) -> str:
    """The encoded TradeRequest announcing a child order before it is sent."""
    return dumps(
        TradeRequest(
            composite_id=child.order_id,
            data=OrderNewSingleRequest(
                exchange_id=child.exchange,
                client_order_id=child.child_id,
                symbol_id_exchange=child.symbol_id_exchange,
                symbol_id_coinapi=child.symbol_id_coinapi,
                amount_order=child.quantity,
                price=child.price,
                side=child.side,
                time_in_force=TIME_IN_FORCE,
            ),
        )
    )


def order_view(order: SmartOrder) -> SmartOrderView:
    """One smart order as GET /requests lists it."""
    params = order.params
    history: dict[str, HistoryTime] = {}
    for status, at in order.status_history:
        history.setdefault(status.value, HistoryTime(at))
    return SmartOrderView(
        id=order.id,
        status=order.status.value,
        status_info=order.status_info,
        symbol=params.symbol,
        amount=params.amount,
        algorithm=order.algorithm,
        side=params.side,
        duration=params.duration,
        interval=params.interval,
        exchanges=order.exchanges,
        status_history=history,
        parameters_updates={at: canonical_parameters(p) for at, p in order.parameter_updates},
        fills=tuple(
            FillView(
                exchange=fill.exchange,
                amount_filled=fill.quantity,
                price=fill.price,
                time_stamp=fill.at,
            )
            for fill in order.fills
        ),
        execution_quality=ExecutionQualityView(**attrs.asdict(order.quality())),
        market=tuple(
            MarketSampleView(time_stamp=sample.at, mid=sample.mid, volume=sample.volume)
            for sample in order.samples
        ),
        limit_price=params.limit_price,
    )
