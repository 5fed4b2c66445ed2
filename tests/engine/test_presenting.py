"""The feed's TradeFill and StatusChange and the views of GET /requests: an order's lists kept
encoded write exactly what encoding every value afresh writes, including values added while
nothing was kept."""

from __future__ import annotations

from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import Fill
from sor_daemon.engine.presenting import (
    ViewLists,
    encoded_view,
    feed_fills,
    fill_report,
    order_view,
    status_change,
    trade_fill,
)
from sor_daemon.protocol.codec import dumps
from sor_daemon.protocol.messages import (
    FillView,
    MarketSampleView,
    StatusChange,
    StatusChangeData,
    TradeFill,
)
from tests.support.orders import fill_report as venue_report
from tests.support.orders import new_order, plan


def status_change_afresh(order: SmartOrder) -> str:
    """The StatusChange with every fill encoded anew, as the protocol's classes write it."""
    data = StatusChangeData(
        id=order.id,
        total_filled=order.filled,
        fills_count=len(order.fills),
        status=order.status.value,
        fills=tuple(fill_report(fill) for fill in order.fills),
        status_info=order.status_info,
    )
    return dumps(StatusChange(composite_id=order.id, data=data))


def view_afresh(order: SmartOrder) -> str:
    """The view with every fill and sample encoded anew, as the protocol's classes write it."""
    fills = tuple(
        FillView(exchange=f.exchange, amount_filled=f.quantity, price=f.price, time_stamp=f.at)
        for f in order.fills
    )
    market = tuple(
        MarketSampleView(time_stamp=s.at, mid=s.mid, volume=s.volume) for s in order.samples
    )
    return dumps(order_view(order, fills, market))


def book_slice(order: SmartOrder, index: int) -> list[Fill]:
    """Plan slice ``index`` (its market sample too) and fill each of its children in part; the
    fills, as booked."""
    now = order.schedule.due(index)
    fills = []
    for child in plan(order, now):
        order.apply(child)
        report = order.interpret(venue_report(child, "0.05"), now)
        assert report is not None
        fill = order.apply(report)
        assert fill is not None
        fills.append(fill)
    return fills


def test_kept_fills_write_the_feed_messages_that_encoding_afresh_writes() -> None:
    order = new_order(exchanges=("DERIBIT", "BINANCE"), amount="10")
    kept = feed_fills()
    for index in range(3):  # booked while no one watched: nothing encoded
        book_slice(order, index)
    assert status_change(order, kept) == status_change_afresh(order)

    for index in range(3, 6):
        for fill in book_slice(order, index):
            text = trade_fill(order, fill, kept)
            assert text == dumps(TradeFill(composite_id=order.id, data=fill_report(fill)))
    assert len(order.fills) == 6
    assert status_change(order, kept) == status_change_afresh(order) == status_change(order)

    book_slice(order, 6)  # unwatched again, then a fill that is
    for fill in book_slice(order, 7):
        trade_fill(order, fill, kept)
    assert status_change(order, kept) == status_change_afresh(order)


def test_kept_lists_write_the_view_that_encoding_afresh_writes() -> None:
    order = new_order(exchanges=("DERIBIT", "BINANCE"), amount="10")
    lists = ViewLists()
    assert encoded_view(order, lists) == view_afresh(order)
    for index in range(4):
        book_slice(order, index)
        assert encoded_view(order, lists) == view_afresh(order) == encoded_view(order)
    assert len(order.fills) == 4 and len(order.samples) == 4
