"""The simulated EMS: validates orders, matches them against the market, keeps the ledger.

Sans-IO: every method takes the time it happens at and returns the messages to send (frozen
``orders`` values), so the whole venue is testable with no sockets and no clock. It is the one
owner of the simulator's state, guarded by one ``threading.Lock``: quickfix calls in from its own
threads, the ticker from another, the HTTP views from the Trio thread.

A new order is matched at once as a taker, one Trade report per price level it crosses; the
unfilled rest of an IOC is canceled, a FOK that cannot fill completely is canceled untouched,
and a GTC or GTD rest waits in the book. When the market steps, every resting order whose limit
the fresh book crosses fills as a maker at its own limit price, as far as the crossing levels
reach; a GTD order expires at its ExpireTime. Resting client orders do not show in the quoted
books: the books are the market's, the client's orders wait beside them.

Every market step prints the background trades of every instrument on the ``tape``, spread over
the time since the previous step; every fill prints there too, with its order's side as the
aggressor (a resting order fills because the fresh book crossed it: it takes that liquidity).
The market-data feed takes the books and the printed trades with ``feed_update``; OHLCV reads
the tape's one-second ``buckets``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.sim.ledger import Balance, Execution, Ledger, Position
from sor_daemon.sim.market import Book, Level, Market
from sor_daemon.sim.matching import crossing_size, sweep
from sor_daemon.sim.orders import (
    CancelReject,
    CancelRequest,
    ExecType,
    ExecutionReport,
    Fill,
    MassCancelReport,
    MassCancelRequest,
    NewOrderRequest,
    OrderStatus,
    Outbound,
    RejectReason,
    Side,
    SimOrder,
    StatusRequest,
    TimeInForce,
)
from sor_daemon.sim.settings import MarketParameters
from sor_daemon.sim.tape import Bucket, Tape, Trade
from sor_daemon.sim.validation import (
    OrderRejected,
    decimal_or_none,
    parse_expire_time,
    parse_price,
    parse_quantity,
    parse_side,
    parse_time_in_force,
)

LIMIT = "2"
MASS_CANCEL_ALL = "7"
COINAPI_SECURITY_ID_SOURCE = "101"
USD_LIKE = frozenset({"USD", "USDT", "USDC"})


@attrs.frozen
class Quote:
    """The top of one book, as CoinAPI's current-quote REST call gives it."""

    instrument: Instrument
    time: datetime
    bid: Level | None
    ask: Level | None


@attrs.frozen
class FeedUpdate:
    """What the market-data feed publishes: books as they stand, trades since the last update."""

    books: dict[str, Book]
    trades: dict[str, list[Trade]]


@attrs.frozen
class BalanceView:
    """One asset of one venue account, with its USD rate when the simulator knows one."""

    exchange: str
    asset: str
    balance: Balance
    rate_usd: Decimal | None


@attrs.frozen
class PositionView:
    """One open position with its mark-to-market."""

    exchange: str
    position: Position
    unrealized_pnl: Decimal


class SimulatedExchange:
    """Every simulated venue behind one EMS session."""

    def __init__(
        self,
        instruments: InstrumentTable,
        parameters: MarketParameters,
        *,
        seed: int,
        start: datetime,
        run_id: str = "SIM",
    ) -> None:
        self._lock = threading.Lock()
        self._instruments = instruments
        self._by_exchange_symbol = {
            (i.exchange, i.symbol_id_exchange.upper()): i for i in instruments
        }
        self._market = Market(instruments, parameters, seed, start)
        self._tape = Tape(instruments, parameters, seed=seed, run_id=run_id)
        self._tape.backfill(
            {i.symbol_id_coinapi: self._market.generated_book(i) for i in instruments}, start
        )
        self._last_step_at = start
        self._ledger = Ledger(instruments, parameters.initial_balances)
        self._orders: dict[str, SimOrder] = {}
        self._by_exchange_order_id: dict[str, SimOrder] = {}
        self._rejected: dict[str, ExecutionReport] = {}
        self._resting: dict[str, SimOrder] = {}
        self._order_numbers = itertools.count(1)
        self._exec_numbers = itertools.count(1)
        self._run_id = run_id
        self._now = start

    # -- the FIX side ------------------------------------------------------------------------

    def submit(self, request: NewOrderRequest, now: datetime) -> list[Outbound]:
        """Answer a NewOrderSingle: Rejected, or New followed by whatever it matched."""
        with self._lock:
            outbound = self._advance(now)
            try:
                order = self._accept(request, now)
            except OrderRejected as rejected:
                outbound.append(self._reject(request, rejected, now))
                return outbound
            outbound.append(self._report(order, ExecType.NEW, now))
            outbound.extend(self._match_new(order, now))
            return outbound

    def cancel(self, request: CancelRequest, now: datetime) -> list[Outbound]:
        """Answer an OrderCancelRequest: Canceled, or an OrderCancelReject."""
        with self._lock:
            outbound = self._advance(now)
            outbound.append(self._cancel(request, now))
            return outbound

    def mass_cancel(self, request: MassCancelRequest, now: datetime) -> list[Outbound]:
        """Answer an OrderMassCancelRequest: one Canceled per resting order, then the report."""
        with self._lock:
            outbound = self._advance(now)
            outbound.extend(self._mass_cancel(request, now))
            return outbound

    def status(self, request: StatusRequest, now: datetime) -> list[Outbound]:
        """Answer an OrderStatusRequest with an ExecutionReport of ExecType I."""
        with self._lock:
            outbound = self._advance(now)
            report = self._status(request, now)
            outbound.append(attrs.evolve(report, status_request_id=request.status_request_id))
            return outbound

    def advance(self, now: datetime) -> list[Outbound]:
        """Step the market to ``now``: resting orders fill or expire; return their reports."""
        with self._lock:
            return self._advance(now)

    # -- the views (HTTP) ----------------------------------------------------------------------

    def quote(self, symbol_id: str) -> Quote | None:
        """The top of a book by CoinAPI symbol id, or None for an unknown symbol."""
        instrument = self._instruments.by_coinapi_id(symbol_id)
        if instrument is None:
            return None
        with self._lock:
            book = self._market.book(instrument)
            return Quote(
                instrument=instrument,
                time=self._now,
                bid=book.bids[0] if book.bids else None,
                ask=book.asks[0] if book.asks else None,
            )

    def book(self, symbol_id: str) -> Book | None:
        """The whole current book by CoinAPI symbol id, or None for an unknown symbol."""
        instrument = self._instruments.by_coinapi_id(symbol_id)
        if instrument is None:
            return None
        with self._lock:
            return self._market.book(instrument)

    def feed_update(self, symbol_ids: Iterable[str]) -> FeedUpdate:
        """The books of ``symbol_ids`` now, and every trade printed since the previous call.

        The trades are handed out once: the feed calls this on every publish, whether anyone
        is subscribed or not, so that they do not pile up.
        """
        with self._lock:
            books = {}
            for symbol_id in symbol_ids:
                instrument = self._instruments.by_coinapi_id(symbol_id)
                if instrument is not None:
                    books[instrument.symbol_id_coinapi] = self._market.book(instrument)
            return FeedUpdate(books=books, trades=self._tape.take_printed())

    def last_trade(self, symbol_id: str) -> Trade | None:
        """The newest trade printed on a symbol, or None (also for an unknown symbol)."""
        instrument = self._instruments.by_coinapi_id(symbol_id)
        if instrument is None:
            return None
        with self._lock:
            return self._tape.last_trade(instrument.symbol_id_coinapi)

    def buckets(
        self, symbol_id: str, start: int | None = None, end: int | None = None
    ) -> Sequence[Bucket] | None:
        """A symbol's one-second buckets with ``start <= second < end`` (epoch seconds).

        Oldest first; None for an unknown symbol.
        """
        instrument = self._instruments.by_coinapi_id(symbol_id)
        if instrument is None:
            return None
        with self._lock:
            return self._tape.buckets(instrument.symbol_id_coinapi, start, end)

    def balances(self, exchange: str | None = None) -> list[BalanceView]:
        """Every asset of every venue account (or one venue's), with USD rates."""
        with self._lock:
            return [
                BalanceView(venue, asset, balance, self._rate_usd(asset))
                for venue, assets in self._ledger.balances(exchange).items()
                for asset, balance in assets.items()
            ]

    def positions(self, exchange: str | None = None) -> list[PositionView]:
        """Every open position (or one venue's), marked to its book's mid."""
        with self._lock:
            views = []
            for venue, positions in self._ledger.positions(exchange).items():
                for position in positions:
                    mark = self._market.generated_book(position.instrument).mid
                    pnl = position.unrealized_pnl(mark) if mark is not None else Decimal(0)
                    views.append(PositionView(venue, position, pnl))
            return views

    def open_orders(self, exchange: str | None = None) -> list[SimOrder]:
        """Copies of the open orders (or one venue's), oldest first."""
        with self._lock:
            return [
                _copy(order)
                for order in self._orders.values()
                if order.status.is_open
                and (exchange is None or order.instrument.exchange == exchange.upper())
            ]

    def order(self, client_order_id: str) -> SimOrder | None:
        """A copy of one accepted order, open or finished."""
        with self._lock:
            order = self._orders.get(client_order_id)
            return _copy(order) if order is not None else None

    def executions(self) -> dict[str, Execution]:
        """What every accepted order executed, by ClOrdID."""
        with self._lock:
            return self._ledger.executions()

    # -- inside the lock -----------------------------------------------------------------------

    def _advance(self, now: datetime) -> list[Outbound]:
        self._now = max(self._now, now)
        outbound: list[Outbound] = []
        for order in list(self._resting.values()):
            if order.expire_time is not None and now >= order.expire_time:
                text = "expired at its ExpireTime"
                outbound.append(self._finish(order, OrderStatus.EXPIRED, now, text=text))
        before = self._market.step_index
        steps = self._market.advance(now)
        if steps:
            self._print_background(before, steps, now)
            for order in list(self._resting.values()):
                outbound.extend(self._match_resting(order, now))
        return outbound

    def _print_background(self, before: int, steps: int, now: datetime) -> None:
        """Print the background trades of ``steps`` steps, spread evenly up to ``now``."""
        start, span = self._last_step_at, (now - self._last_step_at) / steps
        for instrument in self._instruments:
            book = self._market.generated_book(instrument)
            for offset in range(steps):
                self._tape.print_background(
                    instrument,
                    book,
                    before + offset + 1,
                    start + span * offset,
                    start + span * (offset + 1),
                )
        self._last_step_at = now
        self._tape.prune(now)

    def _cancel(self, request: CancelRequest, now: datetime) -> Outbound:
        order = self._find(request.orig_client_order_id, request.order_id, request.exchange)
        if order is not None and order.status.is_open:
            return self._finish(
                order,
                OrderStatus.CANCELED,
                now,
                text="canceled on request",
                request_id=request.request_id,
            )
        if order is not None:
            named, status, too_late = order.client_order_id, order.status, True
            text = f"order {named} is already {status.ems_name}"
        else:
            named = request.orig_client_order_id or request.order_id or "NONE"
            status, too_late = OrderStatus.REJECTED, named in self._rejected
            text = f"order {named} was rejected" if too_late else f"unknown order {named}"
        return CancelReject(
            request_id=request.request_id,
            orig_client_order_id=named,
            order_id=named,
            status=status,
            too_late=too_late,
            text=text,
            transact_time=now,
        )

    def _mass_cancel(self, request: MassCancelRequest, now: datetime) -> list[Outbound]:
        exchange = request.exchange.upper() if request.exchange else None
        problem = None
        if request.request_type != MASS_CANCEL_ALL:
            problem = "only MassCancelRequestType 7 (cancel all orders) is supported"
        elif exchange is not None and exchange not in self._instruments.exchanges:
            problem = f"unknown exchange {exchange}"
        doomed = [
            order
            for order in self._resting.values()
            if problem is None and (exchange is None or order.instrument.exchange == exchange)
        ]
        outbound: list[Outbound] = [
            self._finish(
                order,
                OrderStatus.CANCELED,
                now,
                text=f"canceled by mass cancel {request.request_id}",
                request_id=request.request_id,
            )
            for order in doomed
        ]
        outbound.append(
            MassCancelReport(
                request_id=request.request_id,
                request_type=request.request_type,
                accepted=problem is None,
                affected=len(doomed),
                exchange=exchange,
                text=problem,
                transact_time=now,
            )
        )
        return outbound

    def _status(self, request: StatusRequest, now: datetime) -> ExecutionReport:
        order = self._find(request.client_order_id, request.order_id, request.exchange)
        named = request.client_order_id or request.order_id or "NONE"
        if order is not None:
            return self._report(order, ExecType.ORDER_STATUS, now)
        if named in self._rejected:
            return attrs.evolve(
                self._rejected[named],
                exec_id=self._exec_id(),
                exec_type=ExecType.ORDER_STATUS,
                transact_time=now,
            )
        return ExecutionReport(
            exec_id=self._exec_id(),
            exec_type=ExecType.ORDER_STATUS,
            status=OrderStatus.REJECTED,
            client_order_id=named,
            request_id=named,
            orig_client_order_id=None,
            exchange_order_id=None,
            exchange=request.exchange,
            security_id=None,
            security_id_source=None,
            symbol=None,
            side=request.side or Side.BUY.value,
            quantity=None,
            price=None,
            time_in_force=None,
            expire_time=None,
            cum_qty=Decimal(0),
            leaves_qty=Decimal(0),
            avg_px=Decimal(0),
            last_qty=None,
            last_px=None,
            transact_time=now,
            text="unknown order",
            reject_reason=RejectReason.UNKNOWN_ORDER,
        )

    def _accept(self, request: NewOrderRequest, now: datetime) -> SimOrder:
        if request.client_order_id in self._orders or request.client_order_id in self._rejected:
            raise OrderRejected(
                RejectReason.DUPLICATE_ORDER,
                f"ClOrdID {request.client_order_id} was used before; every order needs a new one",
            )
        instrument = self._resolve(request)
        if request.ord_type != LIMIT:
            raise OrderRejected(
                RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                f"OrdType {request.ord_type} is not supported; only LIMIT (40=2) orders are",
            )
        side = parse_side(request.side)
        time_in_force = parse_time_in_force(request.time_in_force)
        expire_time = parse_expire_time(time_in_force, request.expire_time, now)
        quantity = parse_quantity(request.quantity, instrument)
        price = parse_price(request.price, instrument)
        shortfall = self._ledger.shortfall(instrument, side, price, quantity)
        if shortfall is not None:
            raise OrderRejected(RejectReason.ORDER_EXCEEDS_LIMIT, shortfall)
        order = SimOrder(
            client_order_id=request.client_order_id,
            exchange_order_id=f"{self._run_id}-{next(self._order_numbers)}",
            instrument=instrument,
            security_id=request.security_id or request.symbol or instrument.symbol_id_coinapi,
            security_id_source=request.security_id_source,
            side=side,
            price=price,
            quantity=quantity,
            time_in_force=time_in_force,
            expire_time=expire_time,
            history=[("RECEIVED", now), ("ROUTING", now), ("ROUTED", now)],
        )
        order.set_status(OrderStatus.NEW, now)
        self._orders[order.client_order_id] = order
        self._by_exchange_order_id[order.exchange_order_id] = order
        self._ledger.reserve(instrument, side, price, quantity)
        self._ledger.record(order)
        return order

    def _resolve(self, request: NewOrderRequest) -> Instrument:
        exchange = (request.exchange or "").upper()
        if not exchange:
            raise OrderRejected(
                RejectReason.OTHER, "the order names no exchange (100 ExDestination)"
            )
        if exchange not in self._instruments.exchanges:
            known = ", ".join(sorted(self._instruments.exchanges))
            raise OrderRejected(
                RejectReason.OTHER, f"unknown exchange {exchange}; this EMS routes to {known}"
            )
        name = request.security_id or request.symbol
        if not name:
            raise OrderRejected(RejectReason.UNKNOWN_SYMBOL, "the order names no SecurityID (48)")
        instrument = None
        if request.security_id_source in (None, COINAPI_SECURITY_ID_SOURCE):
            instrument = self._instruments.by_coinapi_id(name)
        if instrument is None and request.security_id_source != COINAPI_SECURITY_ID_SOURCE:
            instrument = self._by_exchange_symbol.get((exchange, name.upper()))
        if instrument is None or instrument.exchange != exchange:
            raise OrderRejected(RejectReason.UNKNOWN_SYMBOL, f"{exchange} does not trade {name}")
        return instrument

    def _reject(
        self, request: NewOrderRequest, rejected: OrderRejected, now: datetime
    ) -> ExecutionReport:
        report = ExecutionReport(
            exec_id=self._exec_id(),
            exec_type=ExecType.REJECTED,
            status=OrderStatus.REJECTED,
            client_order_id=request.client_order_id,
            request_id=request.client_order_id,
            orig_client_order_id=None,
            exchange_order_id=None,
            exchange=request.exchange,
            security_id=request.security_id,
            security_id_source=request.security_id_source,
            symbol=request.symbol,
            side=request.side,
            quantity=decimal_or_none(request.quantity),
            price=decimal_or_none(request.price),
            time_in_force=request.time_in_force,
            expire_time=request.expire_time,
            cum_qty=Decimal(0),
            leaves_qty=Decimal(0),
            avg_px=Decimal(0),
            last_qty=None,
            last_px=None,
            transact_time=now,
            text=rejected.text,
            reject_reason=rejected.reason,
        )
        if rejected.reason is not RejectReason.DUPLICATE_ORDER:
            self._rejected[request.client_order_id] = report
        return report

    def _match_new(self, order: SimOrder, now: datetime) -> list[Outbound]:
        levels = self._market.levels_against(order.instrument, order.side)
        if order.time_in_force is TimeInForce.FILL_OR_KILL:
            available = crossing_size(levels, order.side, order.price)
            if available < order.quantity:
                text = f"fill-or-kill: only {available:f} was available at or better than the limit"
                return [self._finish(order, OrderStatus.CANCELED, now, text=text)]
        outbound: list[Outbound] = []
        for level in sweep(levels, order.side, order.price, order.quantity):
            outbound.append(self._fill(order, [level], level.price, now))
        if order.status.is_open:
            if order.time_in_force.rests:
                self._resting[order.client_order_id] = order
            else:
                text = "immediate-or-cancel: the unfilled rest is canceled"
                outbound.append(self._finish(order, OrderStatus.CANCELED, now, text=text))
        return outbound

    def _match_resting(self, order: SimOrder, now: datetime) -> list[Outbound]:
        levels = self._market.levels_against(order.instrument, order.side)
        taken = sweep(levels, order.side, order.price, order.leaves_qty)
        if not taken:
            return []
        report = self._fill(order, taken, order.price, now)
        if not order.status.is_open:
            del self._resting[order.client_order_id]
        return [report]

    def _fill(
        self, order: SimOrder, taken: Iterable[Level], price: Decimal, now: datetime
    ) -> ExecutionReport:
        quantity = Decimal(0)
        for level in taken:
            self._market.take(order.instrument, order.side, level.price, level.size)
            quantity += level.size
        self._ledger.settle(order.instrument, order.side, order.price, price, quantity)
        self._tape.print_fill(order.instrument, order.side, price, quantity, now)
        order.add_fill(Fill(now, price, quantity))
        self._ledger.record(order)
        return self._report(order, ExecType.TRADE, now, last=(quantity, price))

    def _finish(
        self,
        order: SimOrder,
        status: OrderStatus,
        now: datetime,
        *,
        text: str,
        request_id: str | None = None,
    ) -> ExecutionReport:
        self._ledger.release(order.instrument, order.side, order.price, order.leaves_qty)
        self._resting.pop(order.client_order_id, None)
        order.set_status(status, now)
        order.text = text
        self._ledger.record(order)
        exec_type = ExecType.EXPIRED if status is OrderStatus.EXPIRED else ExecType.CANCELED
        return self._report(order, exec_type, now, text=text, request_id=request_id)

    def _report(
        self,
        order: SimOrder,
        exec_type: ExecType,
        now: datetime,
        *,
        last: tuple[Decimal, Decimal] | None = None,
        text: str | None = None,
        request_id: str | None = None,
    ) -> ExecutionReport:
        return ExecutionReport(
            exec_id=self._exec_id(),
            exec_type=exec_type,
            status=order.status,
            client_order_id=order.client_order_id,
            request_id=request_id or order.client_order_id,
            orig_client_order_id=order.client_order_id if request_id else None,
            exchange_order_id=order.exchange_order_id,
            exchange=order.instrument.exchange,
            security_id=order.security_id,
            security_id_source=order.security_id_source,
            symbol=order.security_id,
            side=order.side.value,
            quantity=order.quantity,
            price=order.price,
            time_in_force=order.time_in_force.value,
            expire_time=order.expire_time,
            cum_qty=order.cum_qty,
            leaves_qty=order.leaves_qty,
            avg_px=order.avg_px,
            last_qty=last[0] if last else None,
            last_px=last[1] if last else None,
            transact_time=now,
            text=text if text is not None else order.text,
        )

    def _find(
        self, client_order_id: str | None, order_id: str | None, exchange: str | None
    ) -> SimOrder | None:
        order = self._orders.get(client_order_id) if client_order_id else None
        if order is None and order_id:
            order = self._by_exchange_order_id.get(order_id) or self._orders.get(order_id)
        if order is not None and exchange and order.instrument.exchange != exchange.upper():
            return None
        return order

    def _exec_id(self) -> str:
        return f"{self._run_id}-X{next(self._exec_numbers)}"

    def _rate_usd(self, asset: str) -> Decimal | None:
        if asset in USD_LIKE:
            return Decimal(1)
        try:
            return self._market.underlying_price(asset)
        except KeyError:
            return None


def _copy(order: SimOrder) -> SimOrder:
    return attrs.evolve(order, fills=list(order.fills), history=list(order.history))
