"""REST under /v1/sor: the seed's seven endpoints, answering in the seed's shapes."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from sor_daemon.api.auth import principal_of
from sor_daemon.api.desk import Desk
from sor_daemon.api.responses import error_response, json_response, protocol_error_response
from sor_daemon.coinapi.rest import UpstreamError
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.engine.ports import AccountSource
from sor_daemon.protocol.codec import (
    dump,
    dump_grouped,
    parse_add_body,
    parse_balances,
    parse_orders,
    parse_positions,
    parse_update_body,
)
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import AddResponse

_COUNT = re.compile(r"[0-9]{1,9}")


class RestApi:
    """The handlers, bound to the desk they command and the EMS account they answer from."""

    def __init__(self, desk: Desk, account: AccountSource) -> None:
        self._desk = desk
        self._account = account

    async def requests(self, request: Request) -> Response:
        """GET /requests: every smart order the key may see, running and finished, oldest
        first; ``?newest=N`` for the newest N only. The answer is written a page of orders at
        a time, as ``engine.listing`` makes them beside the trading."""
        try:
            newest = _newest(request.query_params.get("newest"))
        except ProtocolError as error:
            return protocol_error_response(error)
        pages = self._desk.order_views(principal_of(request), newest)
        return StreamingResponse(_json_array(pages), media_type="application/json")

    async def request_by_id(self, request: Request) -> Response:
        """GET /requests/{id}: one smart order, as GET /requests lists it."""
        try:
            order = self._desk.order(principal_of(request), request.path_params["order_id"])
        except ProtocolError as error:
            return protocol_error_response(error)
        return self._view(order)

    async def add(self, request: Request) -> Response:
        """POST /add: start a smart order."""
        try:
            new = parse_add_body(await _json_body(request))
            order = await self._desk.submit(principal_of(request), new)
        except ProtocolError as error:
            return protocol_error_response(error)
        response = AddResponse(
            id=order.id,
            exchanges=order.exchanges,
            algorithm=order.algorithm,
            parameters=order.params,
        )
        return json_response(dump(response))

    async def cancel(self, request: Request) -> Response:
        """POST /cancel/{id}: cancel a running smart order."""
        try:
            order = await self._desk.cancel(principal_of(request), request.path_params["order_id"])
        except ProtocolError as error:
            return protocol_error_response(error)
        return self._view(order)

    async def update(self, request: Request) -> Response:
        """PUT /update: change a running order's amount, duration or interval."""
        try:
            change = parse_update_body(await _json_body(request))
            order = await self._desk.change(principal_of(request), change.id, change.parameters)
        except ProtocolError as error:
            return protocol_error_response(error)
        return self._view(order)

    def _view(self, order: SmartOrder) -> Response:
        """``order`` as GET /requests lists it."""
        return Response(self._desk.encoded_view(order), media_type="application/json")

    async def balances(self, request: Request) -> Response:
        """GET /balances: the EMS account's balances by exchange."""
        return await _proxy(self._account.balances, parse_balances)

    async def orders(self, request: Request) -> Response:
        """GET /orders: the EMS account's open orders by exchange."""
        return await _proxy(self._account.open_orders, parse_orders)

    async def positions(self, request: Request) -> Response:
        """GET /positions: the EMS account's open positions by exchange."""
        return await _proxy(self._account.positions, parse_positions)


def _newest(text: str | None) -> int | None:
    """The ``newest`` query parameter: a count of orders, or None when it is not given."""
    if text is None:
        return None
    if not _COUNT.fullmatch(text) or int(text) == 0:
        raise ProtocolError(
            "INVALID_PARAMETER", f"newest must be a whole number of orders, 1 or more: {text!r}"
        )
    return int(text)


async def _json_array(pages: AsyncIterator[list[str]]) -> AsyncIterator[str]:
    """One JSON array of the encoded items of ``pages``, written a page at a time."""
    opening = "["
    async with contextlib.aclosing(pages):
        async for page in pages:
            if page:
                yield opening + ",".join(page)
                opening = ","
    yield "[]" if opening == "[" else "]"


async def _json_body(request: Request) -> object:
    body = await request.body()
    try:
        return json.loads(body)
    except ValueError as error:
        raise ProtocolError("JSON_ERROR", f"the body is not valid JSON: {error}") from None


async def _proxy(
    ask: Callable[[], Awaitable[Any]], parse: Callable[[object], dict[str, list[Any]]]
) -> Response:
    try:
        grouped = parse(await ask())
    except UpstreamError as error:
        return error_response("EMS_UNAVAILABLE", str(error), 502)
    except ProtocolError as error:
        return error_response("EMS_BAD_ANSWER", f"the EMS answered oddly: {error.message}", 502)
    return json_response(dump_grouped(grouped))
