"""The ledger: spot fills move assets, open spot orders lock funds, derivatives move positions."""

from __future__ import annotations

from decimal import Decimal as D

from sor_daemon.sim.exchange import SimulatedExchange
from sor_daemon.sim.ledger import Balance, Ledger
from sor_daemon.sim.orders import CancelRequest, OrderStatus, Side
from sor_daemon.sim.settings import default_instruments

from .conftest import START
from .test_exchange import STEP, new_order, reports

SPOT = "COINBASE_SPOT_BTC_USD"
INSTRUMENTS = default_instruments()


def balance(exchange: SimulatedExchange, venue: str, asset: str) -> Balance:
    (view,) = [v for v in exchange.balances(venue) if v.asset == asset]
    return view.balance


def test_a_spot_buy_moves_base_and_quote(exchange: SimulatedExchange) -> None:
    asks = exchange.book(SPOT).asks
    quantity = asks[0].size + asks[1].size
    outbound = exchange.submit(
        new_order("B", symbol=SPOT, exchange="COINBASE", price=asks[1].price, quantity=quantity),
        START,
    )
    assert reports(outbound)[-1].status is OrderStatus.FILLED
    cost = asks[0].price * asks[0].size + asks[1].price * asks[1].size
    btc, usd = balance(exchange, "COINBASE", "BTC"), balance(exchange, "COINBASE", "USD")
    assert (btc.balance, btc.locked, btc.traded) == (100 + quantity, 0, quantity)
    assert (usd.balance, usd.locked, usd.traded) == (10_000_000 - cost, 0, cost)


def test_an_open_spot_order_locks_what_it_could_spend_until_canceled(
    exchange: SimulatedExchange,
) -> None:
    buy_price = exchange.book(SPOT).bids[-1].price - 1000
    exchange.submit(
        new_order(
            "L1",
            symbol=SPOT,
            exchange="COINBASE",
            price=buy_price,
            quantity="2",
            time_in_force="1",
        ),
        START,
    )
    sell_price = exchange.book(SPOT).asks[-1].price + 1000
    exchange.submit(
        new_order(
            "L2",
            symbol=SPOT,
            exchange="COINBASE",
            side="2",
            price=sell_price,
            quantity="3",
            time_in_force="1",
        ),
        START,
    )
    usd, btc = balance(exchange, "COINBASE", "USD"), balance(exchange, "COINBASE", "BTC")
    assert (usd.locked, usd.available) == (2 * buy_price, 10_000_000 - 2 * buy_price)
    assert (btc.locked, btc.available) == (3, 97)
    for request_id, client_order_id in (("X1", "L1"), ("X2", "L2")):
        exchange.cancel(CancelRequest(request_id, client_order_id, None, None, None), START)
    usd, btc = balance(exchange, "COINBASE", "USD"), balance(exchange, "COINBASE", "BTC")
    assert (usd.balance, usd.locked, btc.balance, btc.locked) == (10_000_000, 0, 100, 0)


def test_a_perpetual_fill_moves_a_position_not_the_assets(exchange: SimulatedExchange) -> None:
    asks = exchange.book("DERIBIT_PERP_BTC_USD").asks
    exchange.submit(new_order("P", price=asks[0].price, quantity=asks[0].size), START)
    exchange.advance(START + STEP)
    (view,) = exchange.positions("DERIBIT")
    assert (view.position.quantity, view.position.avg_entry_price) == (asks[0].size, asks[0].price)
    assert view.position.side is Side.BUY
    mark = exchange.book("DERIBIT_PERP_BTC_USD").mid
    assert mark is not None
    assert view.unrealized_pnl == (mark - asks[0].price) * asks[0].size
    assert balance(exchange, "DERIBIT", "BTC").balance == 100
    assert exchange.positions("BINANCE") == []


def test_reducing_a_position_realises_profit_into_the_quote_balance() -> None:
    perp = INSTRUMENTS.by_coinapi_id("DERIBIT_PERP_BTC_USD")
    assert perp is not None
    ledger = Ledger(INSTRUMENTS, {"USD": D(1000)})
    ledger.settle(perp, Side.BUY, D(100), D(100), D(2))
    ledger.settle(perp, Side.BUY, D(110), D(110), D(2))
    (position,) = ledger.positions()["DERIBIT"]
    assert (position.quantity, position.avg_entry_price) == (4, 105)
    ledger.settle(perp, Side.SELL, D(115), D(115), D(1))
    assert ledger.balances("DERIBIT")["DERIBIT"]["USD"].balance == 1010
    ledger.settle(perp, Side.SELL, D(95), D(95), D(5))
    (position,) = ledger.positions()["DERIBIT"]
    assert (position.quantity, position.avg_entry_price, position.side) == (-2, 95, Side.SELL)
    assert ledger.balances("DERIBIT")["DERIBIT"]["USD"].balance == 1010 - 30
    ledger.settle(perp, Side.BUY, D(90), D(90), D(2))
    assert ledger.positions() == {}
    assert ledger.balances("DERIBIT")["DERIBIT"]["USD"].balance == 980 + 10


def test_executions_are_recorded_per_client_order_id(exchange: SimulatedExchange) -> None:
    asks = exchange.book("DERIBIT_PERP_BTC_USD").asks
    quantity = asks[0].size + D("0.1") * 1000
    exchange.submit(new_order("E1", price=asks[0].price, quantity=quantity), START)
    execution = exchange.executions()["E1"]
    assert (execution.exchange_id, execution.symbol_id_coinapi, execution.side) == (
        "DERIBIT",
        "DERIBIT_PERP_BTC_USD",
        Side.BUY,
    )
    assert (execution.cum_qty, execution.avg_px, execution.status) == (
        asks[0].size,
        asks[0].price,
        "CANCELED",
    )
