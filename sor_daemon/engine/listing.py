"""Every smart order as GET /requests lists it, made a page at a time beside the trading.

A desk's journal keeps every order it ever ran. Read back, replayed and encoded in one go, a
history of 20,000 short finished orders held the Trio thread for 3.5 s (after 3 s more of reading
in a worker that held the GIL), and every running order's slices waited; the dashboard asks for
the list each time it connects. So the list is made a page of orders at a time, in the order the
journal accepted them. A retired order is read, replayed and encoded in a worker thread: it is
the listing's own copy. A live order is encoded on the Trio thread from memory, where its runner
changes it, with a checkpoint after each. Between pages everything else runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

import trio

from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.engine.presenting import order_view
from sor_daemon.protocol.codec import dumps
from sor_daemon.store.history import OrderHistory
from sor_daemon.store.journal import Journal

PAGE_SIZE = 50
"""Orders per page: in a worker, about 10 ms of replaying and encoding short orders."""

Visible = Callable[[SmartOrder], bool]


def encoded_view(order: SmartOrder) -> str:
    """One order's view, as JSON text."""
    return dumps(order_view(order))


async def order_views(
    journal: Journal,
    live: Mapping[str, SmartOrder],
    visible: Visible,
    newest: int | None = None,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[list[str]]:
    """The encoded views of the orders ``visible`` keeps, oldest first, a page of up to
    ``page_size`` orders at a time: every order, or only the ``newest`` ones. ``live`` holds
    the orders in memory, by id."""
    history = journal.history()
    try:
        if newest is None:
            pages = _pages(journal, history, live, visible, page_size, newest_first=False)
            async with contextlib.aclosing(pages):
                async for page in pages:
                    yield page
            return
        latest: list[str] = []
        pages = _pages(journal, history, live, visible, min(page_size, newest), newest_first=True)
        async with contextlib.aclosing(pages):
            async for page in pages:
                latest += page
                if len(latest) >= newest:
                    break
        yield latest[newest - 1 :: -1]
    finally:
        history.close()


async def _pages(
    journal: Journal,
    history: OrderHistory,
    live: Mapping[str, SmartOrder],
    visible: Visible,
    page_size: int,
    *,
    newest_first: bool,
) -> AsyncIterator[list[str]]:
    """Pages of encoded views in the order the orders were accepted, or its reverse."""
    position = None
    while True:
        accepted = await journal.read(history.accepted, position, page_size, newest_first)
        if not accepted:
            return
        position = accepted[-1][0]
        order_ids = [order_id for _, order_id in accepted]
        retired = [order_id for order_id in order_ids if order_id not in live]
        read_back = await journal.read(_encode_retired, history, retired, visible)
        page = []
        for order_id in order_ids:
            if order_id in read_back:
                text = read_back[order_id]
            else:
                text = _encode_live(journal, live, order_id, visible)
                await trio.lowlevel.checkpoint()
            if text is not None:
                page.append(text)
        yield page


def _encode_live(
    journal: Journal, live: Mapping[str, SmartOrder], order_id: str, visible: Visible
) -> str | None:
    """The encoded view of an order that was live when its page was read, if ``visible`` keeps
    it (Trio thread); one retired since is read back from the journal by index."""
    order = live.get(order_id) or SmartOrder.replay(journal.events_of(order_id))
    return encoded_view(order) if visible(order) else None


def _encode_retired(
    history: OrderHistory, order_ids: Sequence[str], visible: Visible
) -> dict[str, str | None]:
    """The encoded views of the retired ``order_ids``, None for one ``visible`` leaves out
    (worker thread)."""
    encoded: dict[str, str | None] = {}
    for order_id, events in history.events_of(order_ids).items():
        order = SmartOrder.replay(events)
        encoded[order_id] = encoded_view(order) if visible(order) else None
    return encoded
