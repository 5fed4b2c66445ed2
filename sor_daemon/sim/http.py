"""The simulator's HTTP face, in CoinAPI's shapes: EMS account reads, quotes and OHLCV.

``GET /v1/balances``, ``/v1/positions`` and ``/v1/orders`` (each with an optional
``exchange_id``) and ``/v1/orders/status/{client_order_id}`` answer as CoinAPI's EMS REST does;
``GET /v1/quotes/{symbol_id}/current`` and the OHLCV endpoints as its market data REST does
(``docs/market-data.md``): ``GET /v1/ohlcv/{symbol_id}/latest?period_id=&limit=`` (newest
first, the current period included while it runs) and
``GET /v1/ohlcv/{symbol_id}/history?period_id=&time_start=&time_end=&limit=`` (oldest first,
the periods starting at or after ``time_start`` and before ``time_end``), aggregated from the
trade tape's one-second buckets; 400 for a bad parameter, 550 for an unknown symbol, 429 with
``Retry-After`` while the ``ohlcv_throttle`` fault lasts.

``GET /v1/sim/executions`` is the simulator's own: what each order executed, for tests to
compare a daemon's books with; so is ``GET /v1/sim/market-data/subscriptions``, the market-data
session's live subscriptions and its explicit unsubscribes (``{"active": [{"md_req_id",
"symbol_id", "depth"}], "unsubscribed": [{"md_req_id", "symbol_id", "at"}]}``), and ``GET
/v1/sim/fill-times``, when each fill report was handed to quickfix (``[{"client_order_id",
"cum_qty", "sent_at"}]``, ``sent_at`` in seconds since the epoch; ``sor_daemon.sim.fill_times``),
for fill-to-screen latency. JSON numbers
are numbers (integral decimals as integers), times ISO 8601 UTC with seven fraction digits.
Errors are ``{"error": sentence}``. With an API key set, a request without the right
``X-CoinAPI-Key`` header gets 401.

The fault endpoints are the simulator's own too, for recovery tests: ``GET /v1/sim/faults``
answers the switches (``{"duplicate_reports": false, ...}``); ``POST /v1/sim/faults`` with a JSON
object of some of them sets those and answers the new state, or 400 with ``{"error": reason,
"message": sentence}`` (the daemon's error shape) and nothing changed; ``POST
/v1/sim/disconnect`` drops the FIX connection of every logged-on session and answers
``{"disconnected": n}``.

The views never step the market (only FIX traffic and the ticker do, since a step can fill
orders whose reports must go out over FIX); a quote is at most one step old.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import structlog
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sor_daemon.protocol.times import format_iso
from sor_daemon.sim import ohlcv
from sor_daemon.sim.exchange import BalanceView, PositionView, Quote, SimulatedExchange
from sor_daemon.sim.faults import Faults, FaultSwitchError
from sor_daemon.sim.fill_times import FillTimes
from sor_daemon.sim.orders import SimOrder
from sor_daemon.sim.subscriptions import SubscriptionListing

API_KEY_HEADER = "X-CoinAPI-Key"
UNKNOWN_SYMBOL_STATUS = 550
THROTTLED_STATUS = 429
RETRY_AFTER_SECONDS = 1

log = structlog.get_logger(__name__)


class DecimalJSONResponse(JSONResponse):
    """JSON with decimals as numbers and times in CoinAPI's ISO format."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_jsonable, ensure_ascii=False).encode("utf-8")


def create_app(
    exchange: SimulatedExchange,
    *,
    faults: Faults,
    fill_times: FillTimes,
    disconnect: Callable[[], Awaitable[int]],
    subscriptions: Callable[[], Awaitable[SubscriptionListing]],
    api_key: str | None = None,
) -> Starlette:
    """The Starlette app over ``exchange``, ``faults`` and the EMS acceptor's ``fill_times``;
    ``disconnect`` drops FIX connections.

    ``disconnect`` answers how many it dropped; ``subscriptions`` lists the market-data
    session's (both off the Trio thread: they wait for locks held while FIX messages go out);
    ``api_key`` makes ``X-CoinAPI-Key`` mandatory.
    """

    async def balances(request: Request) -> DecimalJSONResponse:
        views = exchange.balances(request.query_params.get("exchange_id"))
        return DecimalJSONResponse(_grouped((v.exchange, _balance_json(v)) for v in views))

    async def positions(request: Request) -> DecimalJSONResponse:
        views = exchange.positions(request.query_params.get("exchange_id"))
        return DecimalJSONResponse(_grouped((v.exchange, _position_json(v)) for v in views))

    async def orders(request: Request) -> DecimalJSONResponse:
        open_orders = exchange.open_orders(request.query_params.get("exchange_id"))
        return DecimalJSONResponse([order_json(order) for order in open_orders])

    async def order_status(request: Request) -> DecimalJSONResponse:
        client_order_id = request.path_params["client_order_id"]
        order = exchange.order(client_order_id)
        if order is None:
            return _error(404, f"unknown order {client_order_id}")
        return DecimalJSONResponse(order_json(order))

    async def quote(request: Request) -> DecimalJSONResponse:
        symbol_id = request.path_params["symbol_id"]
        current = exchange.quote(symbol_id)
        if current is None:
            return _error(404, f"unknown symbol {symbol_id}")
        return DecimalJSONResponse(_quote_json(current))

    async def ohlcv_latest(request: Request) -> DecimalJSONResponse:
        if faults.throttle_ohlcv():
            return _throttled()
        symbol_id = request.path_params["symbol_id"]
        query = request.query_params
        try:
            period = ohlcv.parse_period(query.get("period_id"))
            limit = ohlcv.parse_limit(query.get("limit"))
        except ohlcv.OhlcvQueryError as error:
            return _error(400, str(error))
        buckets = exchange.buckets(symbol_id)
        if buckets is None:
            return _unknown_symbol(symbol_id)
        rows = ohlcv.candles(buckets, period)[-limit:]
        return DecimalJSONResponse([_candle_json(row) for row in reversed(rows)])

    async def ohlcv_history(request: Request) -> DecimalJSONResponse:
        if faults.throttle_ohlcv():
            return _throttled()
        symbol_id = request.path_params["symbol_id"]
        query = request.query_params
        try:
            period = ohlcv.parse_period(query.get("period_id"))
            limit = ohlcv.parse_limit(query.get("limit"))
            start, end = ohlcv.parse_window(query.get("time_start"), query.get("time_end"))
        except ohlcv.OhlcvQueryError as error:
            return _error(400, str(error))
        buckets = exchange.buckets(
            symbol_id,
            ohlcv.period_start_at_or_after(start, period),
            ohlcv.period_start_at_or_after(end, period) if end is not None else None,
        )
        if buckets is None:
            return _unknown_symbol(symbol_id)
        rows = ohlcv.candles(buckets, period)[:limit]
        return DecimalJSONResponse([_candle_json(row) for row in rows])

    async def market_data_subscriptions(request: Request) -> DecimalJSONResponse:
        listing = await subscriptions()
        return DecimalJSONResponse(
            {
                "active": [attrs.asdict(active) for active in listing.active],
                "unsubscribed": [attrs.asdict(ended) for ended in listing.unsubscribed],
            }
        )

    async def executions(request: Request) -> DecimalJSONResponse:
        return DecimalJSONResponse(
            {
                client_order_id: {
                    "exchange_id": execution.exchange_id,
                    "symbol_id_coinapi": execution.symbol_id_coinapi,
                    "side": execution.side.ems_name,
                    "cum_qty": execution.cum_qty,
                    "avg_px": execution.avg_px,
                    "status": execution.status,
                }
                for client_order_id, execution in exchange.executions().items()
            }
        )

    async def fill_reports(request: Request) -> DecimalJSONResponse:
        return DecimalJSONResponse([attrs.asdict(stamp) for stamp in fill_times.all()])

    async def fault_switches(request: Request) -> DecimalJSONResponse:
        return DecimalJSONResponse(faults.current().as_json())

    async def change_fault_switches(request: Request) -> DecimalJSONResponse:
        try:
            changes = await request.json()
        except ValueError as error:
            return _bad_request("JSON_ERROR", f"the body is not JSON: {error}")
        if not isinstance(changes, dict):
            return _bad_request(
                "INVALID_PARAMETER", "the body must be a JSON object of switches to set"
            )
        try:
            switches = faults.change(changes)
        except FaultSwitchError as error:
            return _bad_request("INVALID_PARAMETER", str(error))
        log.info("simulator fault switches set", **switches.as_json())
        return DecimalJSONResponse(switches.as_json())

    async def drop_fix_connections(request: Request) -> DecimalJSONResponse:
        return DecimalJSONResponse({"disconnected": await disconnect()})

    routes = [
        Route("/v1/balances", balances),
        Route("/v1/positions", positions),
        Route("/v1/orders", orders),
        Route("/v1/orders/status/{client_order_id}", order_status),
        Route("/v1/quotes/{symbol_id}/current", quote),
        Route("/v1/ohlcv/{symbol_id}/latest", ohlcv_latest),
        Route("/v1/ohlcv/{symbol_id}/history", ohlcv_history),
        Route("/v1/sim/executions", executions),
        Route("/v1/sim/fill-times", fill_reports),
        Route("/v1/sim/market-data/subscriptions", market_data_subscriptions),
        Route("/v1/sim/faults", fault_switches, methods=["GET"]),
        Route("/v1/sim/faults", change_fault_switches, methods=["POST"]),
        Route("/v1/sim/disconnect", drop_fix_connections, methods=["POST"]),
    ]
    middleware = [Middleware(ApiKeyGuard, api_key=api_key)] if api_key else []
    return Starlette(routes=routes, middleware=middleware)


class ApiKeyGuard:
    """Answers 401 to an HTTP request without the configured ``X-CoinAPI-Key``."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self._app = app
        self._api_key = api_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            presented = Headers(scope=scope).get(API_KEY_HEADER, "").encode("utf-8")
            if not hmac.compare_digest(presented, self._api_key):
                reason = "missing" if not presented else "wrong"
                response = _error(401, f"{reason} API key: send it in the {API_KEY_HEADER} header")
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def order_json(order: SimOrder) -> dict[str, Any]:
    """One order in the shape of CoinAPI's EMS order (the seed's GET /orders element)."""
    instrument = order.instrument
    return {
        "id": order.client_order_id,
        "client_order_id_format_exchange": order.client_order_id,
        "exchange_order_id": order.exchange_order_id,
        "amount_open": order.leaves_qty,
        "amount_filled": order.cum_qty,
        "status": order.status.ems_name,
        "status_history": [[status, moment] for status, moment in order.history],
        "error_message": None,
        "fills": [
            {"time": fill.time, "price": fill.price, "amount": fill.quantity}
            for fill in order.fills
        ],
        "exchange_id": instrument.exchange,
        "client_order_id": order.client_order_id,
        "symbol_id_exchange": instrument.symbol_id_exchange,
        "symbol_id_coinapi": instrument.symbol_id_coinapi,
        "amount_order": order.quantity,
        "price": order.price,
        "avg_px": order.avg_px,
        "side": order.side.ems_name,
        "order_type": "LIMIT",
        "time_in_force": order.time_in_force.ems_name,
        "expire_time": order.expire_time,
        "exec_inst": [],
    }


def _balance_json(view: BalanceView) -> dict[str, Any]:
    balance = view.balance
    return {
        "id": view.asset,
        "asset_id_exchange": view.asset,
        "asset_id_coinapi": view.asset,
        "balance": balance.balance,
        "available": balance.available,
        "locked": balance.locked,
        "traded": balance.traded,
        "last_updated_by": "EXCHANGE",
        "rate_usd": view.rate_usd,
    }


def _position_json(view: PositionView) -> dict[str, Any]:
    position = view.position
    instrument = position.instrument
    raw = {
        "symbol": instrument.symbol_id_exchange,
        "quantity": format(position.quantity, "f"),
        "avg_entry_price": format(position.avg_entry_price, "f"),
        "source": "sor-daemon simulator",
    }
    return {
        "id": instrument.symbol_id_exchange,
        "symbol_id_exchange": instrument.symbol_id_exchange,
        "symbol_id_coinapi": instrument.symbol_id_coinapi,
        "avg_entry_price": position.avg_entry_price,
        "quantity": abs(position.quantity),
        "side": position.side.ems_name,
        "unrealized_pnl": view.unrealized_pnl,
        "leverage": 1,
        "cross_margin": False,
        "liquidation_price": None,
        "raw_data": json.dumps(raw),
    }


def _quote_json(quote: Quote) -> dict[str, Any]:
    return {
        "symbol_id": quote.instrument.symbol_id_coinapi,
        "time_exchange": quote.time,
        "time_coinapi": quote.time,
        "ask_price": quote.ask.price if quote.ask else None,
        "ask_size": quote.ask.size if quote.ask else None,
        "bid_price": quote.bid.price if quote.bid else None,
        "bid_size": quote.bid.size if quote.bid else None,
    }


def _candle_json(candle: ohlcv.Candle) -> dict[str, Any]:
    return {
        "time_period_start": candle.period_start,
        "time_period_end": candle.period_end,
        "time_open": candle.time_open,
        "time_close": candle.time_close,
        "price_open": candle.price_open,
        "price_high": candle.price_high,
        "price_low": candle.price_low,
        "price_close": candle.price_close,
        "volume_traded": candle.volume,
        "trades_count": candle.count,
    }


def _grouped(rows: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """CoinAPI's grouping: one ``{"exchange_id", "data"}`` per venue."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for exchange, element in rows:
        groups.setdefault(exchange, []).append(element)
    return [{"exchange_id": exchange, "data": data} for exchange, data in groups.items()]


def _error(status: int, message: str) -> DecimalJSONResponse:
    return DecimalJSONResponse({"error": message}, status_code=status)


def _unknown_symbol(symbol_id: str) -> DecimalJSONResponse:
    return _error(UNKNOWN_SYMBOL_STATUS, f"unknown symbol {symbol_id}: no data for it")


def _throttled() -> DecimalJSONResponse:
    response = _error(
        THROTTLED_STATUS,
        f"too many requests: throttled by the simulator's fault switch; retry after "
        f"{RETRY_AFTER_SECONDS} s",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _bad_request(reason: str, message: str) -> DecimalJSONResponse:
    return DecimalJSONResponse({"error": reason, "message": message}, status_code=400)


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return format_iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
