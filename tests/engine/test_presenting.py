"""The feed's TradeFill and StatusChange: a runner's kept encodings of its order's fills write
exactly what encoding every fill afresh writes, fills booked while no one watched included."""

from __future__ import annotations

from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.values import Fill
from sor_daemon.engine.presenting import FeedFills, fill_report, status_change
from sor_daemon.protocol.codec import dumps
from sor_daemon.protocol.messages import StatusChange, StatusChangeData, TradeFill
from tests.support.orders import fill_report as venue_report
from tests.support.orders import new_order, plan


def afresh(order: SmartOrder) -> str:
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


def book_slice(order: SmartOrder, index: int) -> list[Fill]:
    """Plan slice ``index`` and fill each of its children in part; the fills, as booked."""
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


def test_kept_fills_write_what_encoding_them_afresh_writes() -> None:
    order = new_order(exchanges=("DERIBIT", "BINANCE"), amount="10")
    feed_fills = FeedFills()
    for index in range(3):  # booked while no one watched: nothing encoded
        book_slice(order, index)
    assert status_change(order, feed_fills) == afresh(order)

    for index in range(3, 6):
        for fill in book_slice(order, index):
            trade_fill = feed_fills.trade_fill(order, fill)
            assert trade_fill == dumps(TradeFill(composite_id=order.id, data=fill_report(fill)))
    assert len(order.fills) == 6
    assert status_change(order, feed_fills) == afresh(order) == status_change(order)

    book_slice(order, 6)  # unwatched again, then a fill that is
    for fill in book_slice(order, 7):
        feed_fills.trade_fill(order, fill)
    assert status_change(order, feed_fills) == afresh(order)
