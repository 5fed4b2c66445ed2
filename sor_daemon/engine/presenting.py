"""Smart orders as the protocol shows them: the feed's messages and the REST views.

Feed messages are encoded once here, as text, and the feed hands the same text to every
subscriber.
"""

from __future__ import annotations

import attrs

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import Fill
from sor_daemon.protocol.codec import canonical_parameters, dumps
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


def status_change(order: SmartOrder) -> str:
    """The encoded StatusChange with the order's status and every fill so far."""
    return dumps(
        StatusChange(
            composite_id=order.id,
            data=StatusChangeData(
                id=order.id,
                total_filled=order.filled,
                fills_count=len(order.fills),
                status=order.status.value,
                fills=tuple(fill_report(fill) for fill in order.fills),
                status_info=order.status_info,
            ),
        )
    )


def trade_fill(fill: Fill) -> str:
    """The encoded TradeFill for one fill."""
    return dumps(TradeFill(composite_id=fill.order_id, data=fill_report(fill)))


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
