"""The simulated venue without sockets: validation, matching, cancels, status, expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

import attrs
import pytest

from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.orders import (
    CancelReject,
    CancelRequest,
    ExecType,
    ExecutionReport,
    MassCancelReport,
    MassCancelRequest,
    NewOrderRequest,
    OrderStatus,
    Outbound,
    RejectReason,
    StatusRequest,
)
from sor_daemon.sim.settings import default_market

from .conftest import START

STEP = default_market().step
BTC_PERP = "DERIBIT_PERP_BTC_USD"


def new_order(
    client_order_id: str,
    *,
    price: D | str,
    quantity: D | str,
    symbol: str = BTC_PERP,
    exchange: str = "DERIBIT",
    side: str = "1",
    time_in_force: str | None = "3",
    ord_type: str = "2",
    source: str | None = "101",
    expire_time: datetime | None = None,
) -> NewOrderRequest:
    return NewOrderRequest(
        client_order_id=client_order_id,
        exchange=exchange,
        security_id=symbol,
        security_id_source=source,
        symbol=symbol,
        ord_type=ord_type,
        side=side,
        price=str(price),
        quantity=str(quantity),
        time_in_force=time_in_force,
        expire_time=expire_time,
    )


def reports(outbound: list[Outbound]) -> list[ExecutionReport]:
    assert all(isinstance(item, ExecutionReport) for item in outbound), outbound
    return [item for item in outbound if isinstance(item, ExecutionReport)]


def kinds(outbound: list[Outbound]) -> list[tuple[ExecType, OrderStatus]]:
    return [(report.exec_type, report.status) for report in reports(outbound)]


def test_an_ioc_buy_trades_once_per_level_crossed_and_cancels_the_rest(
    exchange: SimulatedExchange,
) -> None:
    asks = exchange.book(BTC_PERP).asks
    crossed = asks[:3]
    available = sum(level.size for level in crossed)
    outbound = exchange.submit(
        new_order("A", price=crossed[-1].price, quantity=available + 1), START
    )
    new, *trades, canceled = reports(outbound)
    assert (new.exec_type, new.status, new.cum_qty, new.leaves_qty) == (
        ExecType.NEW,
        OrderStatus.NEW,
        0,
        available + 1,
    )
    assert [(t.last_px, t.last_qty) for t in trades] == [(lv.price, lv.size) for lv in crossed]
    assert all(t.exec_type is ExecType.TRADE for t in trades)
    assert all(t.status is OrderStatus.PARTIALLY_FILLED for t in trades)
    assert [t.cum_qty + t.leaves_qty for t in trades] == [available + 1] * 3
    notional = sum(level.price * level.size for level in crossed)
    assert canceled.exec_type is ExecType.CANCELED and canceled.status is OrderStatus.CANCELED
    assert (canceled.cum_qty, canceled.leaves_qty) == (available, 0)
    assert canceled.avg_px == (notional / available).quantize(D("1e-10")).normalize()
    assert canceled.text and "immediate-or-cancel" in canceled.text
    assert {r.client_order_id for r in reports(outbound)} == {"A"}
    assert len({r.exec_id for r in reports(outbound)}) == 5
    assert exchange.book(BTC_PERP).asks[0] == asks[3]


def test_an_ioc_sell_takes_bids_at_or_above_its_limit(exchange: SimulatedExchange) -> None:
    bids = exchange.book(BTC_PERP).bids
    outbound = exchange.submit(
        new_order("S", side="2", price=bids[1].price, quantity=bids[0].size), START
    )
    assert kinds(outbound) == [
        (ExecType.NEW, OrderStatus.NEW),
        (ExecType.TRADE, OrderStatus.FILLED),
    ]
    assert reports(outbound)[-1].last_px == bids[0].price


def test_a_fok_that_cannot_fill_completely_is_canceled_untouched(
    exchange: SimulatedExchange,
) -> None:
    before = exchange.book(BTC_PERP)
    available = sum(level.size for level in before.asks[:2])
    outbound = exchange.submit(
        new_order(
            "F", price=before.asks[1].price, quantity=available + D("0.1"), time_in_force="4"
        ),
        START,
    )
    assert kinds(outbound) == [
        (ExecType.NEW, OrderStatus.NEW),
        (ExecType.CANCELED, OrderStatus.CANCELED),
    ]
    assert reports(outbound)[-1].cum_qty == 0
    assert exchange.book(BTC_PERP) == before


def test_a_fok_that_can_fill_fills_completely(exchange: SimulatedExchange) -> None:
    asks = exchange.book(BTC_PERP).asks
    quantity = asks[0].size + asks[1].size
    outbound = exchange.submit(
        new_order("F", price=asks[1].price, quantity=quantity, time_in_force="4"), START
    )
    last = reports(outbound)[-1]
    assert (last.exec_type, last.status, last.cum_qty, last.leaves_qty) == (
        ExecType.TRADE,
        OrderStatus.FILLED,
        quantity,
        0,
    )


def test_a_gtc_order_rests_and_fills_at_its_limit_when_the_book_crosses_it(
    exchange: SimulatedExchange,
) -> None:
    limit = exchange.book(BTC_PERP).bids[0].price
    outbound = exchange.submit(
        new_order("G", price=limit, quantity="0.5", time_in_force="1"), START
    )
    assert kinds(outbound) == [(ExecType.NEW, OrderStatus.NEW)]
    assert [order.client_order_id for order in exchange.open_orders()] == ["G"]
    fills: list[ExecutionReport] = []
    for step in range(1, 2000):
        fills += reports(exchange.advance(START + step * STEP))
        if fills and fills[-1].status is OrderStatus.FILLED:
            break
    assert fills, "the walk never crossed the resting order"
    assert all(fill.exec_type is ExecType.TRADE for fill in fills)
    assert {fill.last_px for fill in fills} == {limit}
    assert fills[-1].cum_qty == D("0.5") and fills[-1].avg_px == limit
    assert exchange.open_orders() == []


def test_a_gtc_order_that_crosses_on_arrival_takes_first_then_rests(
    exchange: SimulatedExchange,
) -> None:
    best = exchange.book(BTC_PERP).asks[0]
    outbound = exchange.submit(
        new_order("G", price=best.price, quantity=best.size + 1, time_in_force="1"), START
    )
    assert kinds(outbound) == [
        (ExecType.NEW, OrderStatus.NEW),
        (ExecType.TRADE, OrderStatus.PARTIALLY_FILLED),
    ]
    (resting,) = exchange.open_orders()
    assert (resting.cum_qty, resting.leaves_qty) == (best.size, 1)


def test_a_gtd_order_expires_at_its_expire_time(exchange: SimulatedExchange) -> None:
    far = exchange.book(BTC_PERP).bids[-1].price - 1000
    expire = START + timedelta(seconds=1)
    exchange.submit(
        new_order("E", price=far, quantity="1", time_in_force="6", expire_time=expire), START
    )
    assert exchange.advance(expire - timedelta(milliseconds=1)) == []
    (expired,) = reports(exchange.advance(expire))
    assert (expired.exec_type, expired.status, expired.leaves_qty) == (
        ExecType.EXPIRED,
        OrderStatus.EXPIRED,
        0,
    )
    assert expired.expire_time == expire


def test_cancel_a_resting_order_then_too_late_then_unknown(exchange: SimulatedExchange) -> None:
    far = exchange.book(BTC_PERP).bids[-1].price - 1000
    (new,) = reports(
        exchange.submit(new_order("C", price=far, quantity="1", time_in_force="1"), START)
    )
    request = CancelRequest(
        "X1", orig_client_order_id="C", order_id=None, exchange="DERIBIT", side="1"
    )
    (canceled,) = reports(exchange.cancel(request, START))
    assert (canceled.exec_type, canceled.status) == (ExecType.CANCELED, OrderStatus.CANCELED)
    assert (canceled.request_id, canceled.orig_client_order_id, canceled.client_order_id) == (
        "X1",
        "C",
        "C",
    )
    assert canceled.exchange_order_id == new.exchange_order_id
    (too_late,) = exchange.cancel(attrs.evolve(request, request_id="X2"), START)
    assert isinstance(too_late, CancelReject)
    assert too_late.too_late and too_late.status is OrderStatus.CANCELED
    unknown_request = CancelRequest("X3", "NOPE", None, "DERIBIT", "1")
    (unknown,) = exchange.cancel(unknown_request, START)
    assert isinstance(unknown, CancelReject) and not unknown.too_late
    assert unknown.text == "unknown order NOPE"


def test_cancel_by_the_venues_order_id_and_only_on_the_right_venue(
    exchange: SimulatedExchange,
) -> None:
    far = exchange.book(BTC_PERP).bids[-1].price - 1000
    (new,) = reports(
        exchange.submit(new_order("V", price=far, quantity="1", time_in_force="1"), START)
    )
    wrong_venue = CancelRequest("X1", None, new.exchange_order_id, "BINANCE", None)
    assert isinstance(exchange.cancel(wrong_venue, START)[0], CancelReject)
    by_venue_id = CancelRequest("X2", None, new.exchange_order_id, "DERIBIT", None)
    (canceled,) = reports(exchange.cancel(by_venue_id, START))
    assert canceled.status is OrderStatus.CANCELED and canceled.client_order_id == "V"


def test_mass_cancel_cancels_every_resting_order_of_one_venue(
    exchange: SimulatedExchange,
) -> None:
    btc = exchange.book(BTC_PERP).bids[-1].price - 1000
    eth = exchange.book("BINANCE_SPOT_ETH_USDT").bids[-1].price - 100
    for client_order_id in ("M1", "M2"):
        exchange.submit(
            new_order(client_order_id, price=btc, quantity="1", time_in_force="1"), START
        )
    exchange.submit(
        new_order(
            "M3",
            symbol="BINANCE_SPOT_ETH_USDT",
            exchange="BINANCE",
            price=eth,
            quantity="1",
            time_in_force="1",
        ),
        START,
    )
    *canceled, report = exchange.mass_cancel(MassCancelRequest("MC", "7", "DERIBIT"), START)
    assert [(r.client_order_id, r.status, r.request_id) for r in reports(canceled)] == [
        ("M1", OrderStatus.CANCELED, "MC"),
        ("M2", OrderStatus.CANCELED, "MC"),
    ]
    assert isinstance(report, MassCancelReport)
    assert (report.accepted, report.affected) == (True, 2)
    assert [order.client_order_id for order in exchange.open_orders()] == ["M3"]
    (refused,) = exchange.mass_cancel(MassCancelRequest("MC2", "1", None), START)
    assert isinstance(refused, MassCancelReport) and not refused.accepted


def test_status_of_a_known_an_unknown_and_a_rejected_order(exchange: SimulatedExchange) -> None:
    far = exchange.book(BTC_PERP).bids[-1].price - 1000
    exchange.submit(new_order("K", price=far, quantity="1.5", time_in_force="1"), START)
    (known,) = reports(exchange.status(StatusRequest("K", None, "DERIBIT", "1", "Q1"), START))
    assert (known.exec_type, known.status, known.leaves_qty, known.status_request_id) == (
        ExecType.ORDER_STATUS,
        OrderStatus.NEW,
        D("1.5"),
        "Q1",
    )
    (unknown,) = reports(exchange.status(StatusRequest("NOPE", None, None, "1", None), START))
    assert (unknown.exec_type, unknown.status, unknown.text) == (
        ExecType.ORDER_STATUS,
        OrderStatus.REJECTED,
        "unknown order",
    )
    exchange.submit(new_order("R", price=far, quantity="0.05"), START)
    (rejected,) = reports(exchange.status(StatusRequest("R", None, None, "1", None), START))
    assert (rejected.exec_type, rejected.status) == (ExecType.ORDER_STATUS, OrderStatus.REJECTED)
    assert "minimum size" in (rejected.text or "")


@pytest.mark.parametrize(
    ("changes", "reason", "words"),
    [
        ({"exchange": "NOWHERE"}, RejectReason.OTHER, "unknown exchange NOWHERE"),
        ({"symbol": "DERIBIT_PERP_DOGE_USD"}, RejectReason.UNKNOWN_SYMBOL, "does not trade"),
        ({"symbol": "BINANCE_SPOT_BTC_USDT"}, RejectReason.UNKNOWN_SYMBOL, "does not trade"),
        ({"ord_type": "1"}, RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "only LIMIT"),
        ({"side": "5"}, RejectReason.OTHER, "Side (54)"),
        ({"time_in_force": "0"}, RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "not supported"),
        ({"time_in_force": "6"}, RejectReason.OTHER, "needs ExpireTime"),
        ({"quantity": "0.05"}, RejectReason.INCORRECT_QUANTITY, "below the minimum size"),
        ({"quantity": "0.15"}, RejectReason.INCORRECT_QUANTITY, "size increment"),
        ({"quantity": "-1"}, RejectReason.INCORRECT_QUANTITY, "not a positive number"),
        ({"price": "60000.3"}, RejectReason.OTHER, "price increment"),
        ({"price": "0"}, RejectReason.OTHER, "positive Price"),
        (
            {
                "symbol": "COINBASE_SPOT_BTC_USD",
                "exchange": "COINBASE",
                "quantity": "200",
                "price": "60000",
            },
            RejectReason.ORDER_EXCEEDS_LIMIT,
            "insufficient USD",
        ),
        (
            {
                "symbol": "COINBASE_SPOT_BTC_USD",
                "exchange": "COINBASE",
                "side": "2",
                "quantity": "101",
                "price": "60000",
            },
            RejectReason.ORDER_EXCEEDS_LIMIT,
            "insufficient BTC",
        ),
    ],
)
def test_invalid_orders_are_rejected_with_a_reason_and_a_sentence(
    exchange: SimulatedExchange, changes: dict[str, str], reason: RejectReason, words: str
) -> None:
    request = new_order("BAD", **({"price": "60000", "quantity": "1"} | changes))
    (rejected,) = reports(exchange.submit(request, START))
    assert (rejected.exec_type, rejected.status, rejected.reject_reason) == (
        ExecType.REJECTED,
        OrderStatus.REJECTED,
        reason,
    )
    assert words in (rejected.text or ""), rejected.text
    assert (rejected.client_order_id, rejected.cum_qty, rejected.leaves_qty) == ("BAD", 0, 0)
    assert exchange.executions() == {}


def test_the_venues_own_symbol_id_works_with_security_id_source_8(
    exchange: SimulatedExchange,
) -> None:
    request = new_order("N", symbol="BTC-PERPETUAL", source="8", price="1000", quantity="1")
    new = reports(exchange.submit(request, START))[0]
    assert new.exec_type is ExecType.NEW
    assert (new.security_id, new.security_id_source) == ("BTC-PERPETUAL", "8")


def test_a_reused_client_order_id_is_rejected_as_a_duplicate(exchange: SimulatedExchange) -> None:
    exchange.submit(new_order("D", price="1000", quantity="1"), START)
    (duplicate,) = reports(exchange.submit(new_order("D", price="1000", quantity="1"), START))
    assert duplicate.reject_reason is RejectReason.DUPLICATE_ORDER
    assert exchange.executions()["D"].status == "CANCELED"
