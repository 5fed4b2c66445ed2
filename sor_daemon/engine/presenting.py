"""Smart orders as the protocol shows them: the feed's messages and the REST views.

Feed messages are encoded once here, as text, and the feed hands the same text to every
subscriber. A StatusChange carries every fill so far, and a view every fill and market sample:
those lists of a live order are kept encoded (``feed_fills``, ``ViewLists``; see
``encoded_lists``), so that a message or a view costs a join of their texts, not their encoding.
"""

from __future__ import annotations

import attrs
import orjson

from sor_daemon.domain.events import ChildPlanned, MarketSampled
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import Fill
from sor_daemon.engine.encoded_lists import EncodedList
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
VIEW_FILLS, VIEW_MARKET = "fills", "market"
"""A view's keys of its fills and of its market samples."""


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


def feed_fills() -> EncodedList[Fill]:
    """An order's fills as a StatusChange lists them, kept encoded by the order's runner."""
    return EncodedList(_fill_report_text)


def _fill_report_text(fill: Fill) -> str:
    return dumps(fill_report(fill))


def trade_fill(order: SmartOrder, fill: Fill, kept: EncodedList[Fill]) -> str:
    """The encoded TradeFill of ``fill``, the fill ``order`` booked last; its report is kept
    in ``kept`` for the StatusChanges to come."""
    message = dump(TradeFill(composite_id=fill.order_id, data=fill_report(fill)))
    report = compact_json(message[DATA])
    kept.keep(order.fills, report)
    return compact_json({**message, DATA: orjson.Fragment(report)})


def status_change(order: SmartOrder, kept: EncodedList[Fill] | None = None) -> str:
    """The encoded StatusChange with the order's status and every fill so far (from ``kept``,
    where the order's runner keeps them encoded)."""
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
    message[DATA][FILLS] = (kept or feed_fills()).array(order.fills)
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


class ViewLists:
    """A live order's fills and market samples as its view lists them, kept encoded between
    views (by the engine, until the order is retired)."""

    __slots__ = ("fills", "market")

    def __init__(self) -> None:
        self.fills: EncodedList[Fill] = EncodedList(_fill_view_text)
        self.market: EncodedList[MarketSampled] = EncodedList(_sample_view_text)


def _fill_view_text(fill: Fill) -> str:
    view = FillView(
        exchange=fill.exchange, amount_filled=fill.quantity, price=fill.price, time_stamp=fill.at
    )
    return dumps(view)


def _sample_view_text(sample: MarketSampled) -> str:
    return dumps(MarketSampleView(time_stamp=sample.at, mid=sample.mid, volume=sample.volume))


def order_view(
    order: SmartOrder,
    fills: tuple[FillView, ...] = (),
    market: tuple[MarketSampleView, ...] = (),
) -> SmartOrderView:
    """One smart order as GET /requests lists it, with ``fills`` and ``market`` as its lists
    (``encoded_view`` puts the kept encodings in their place)."""
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
        fills=fills,
        execution_quality=ExecutionQualityView(**attrs.asdict(order.quality())),
        market=market,
        limit_price=params.limit_price,
    )


def encoded_view(order: SmartOrder, lists: ViewLists | None = None) -> str:
    """``order_view`` as JSON text, its fills and market samples from ``lists`` where they are
    kept encoded."""
    lists = lists or ViewLists()
    message = dump(order_view(order))
    message[VIEW_FILLS] = lists.fills.array(order.fills)
    message[VIEW_MARKET] = lists.market.array(order.samples)
    return compact_json(message)
