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

import attrs
import trio

from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.engine.presenting import encoded_view
from sor_daemon.store.history import OrderHistory
from sor_daemon.store.journal import Journal

PAGE_SIZE = 50
"""Orders per page: in a worker, about 10 ms of replaying and encoding short orders."""

Visible = Callable[[SmartOrder], bool]
Encode = Callable[[SmartOrder], str]


async def order_views(
    journal: Journal,
    live: Mapping[str, SmartOrder],
    encode_live: Encode,
    visible: Visible,
    newest: int | None = None,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[list[str]]:
    """The encoded views of the orders ``visible`` keeps, oldest first, a page of up to
    ``page_size`` orders at a time: every order, or only the ``newest`` ones. ``live`` holds
    the orders in memory, by id, and ``encode_live`` writes the view of one of them."""
    listing = _Listing(journal, journal.history(), live, encode_live, visible)
    try:
        if newest is None:
            pages = listing.pages(page_size, newest_first=False)
            async with contextlib.aclosing(pages):
                async for page in pages:
                    yield page
            return
        latest: list[str] = []
        pages = listing.pages(min(page_size, newest), newest_first=True)
        async with contextlib.aclosing(pages):
            async for page in pages:
                latest += page
                if len(latest) >= newest:
                    break
        yield latest[newest - 1 :: -1]
    finally:
        listing.history.close()


@attrs.frozen
class _Listing:
    """What one listing reads from: the journal, its own reader, and the orders in memory."""

    journal: Journal
    history: OrderHistory
    live: Mapping[str, SmartOrder]
    encode_live: Encode
    visible: Visible

    async def pages(self, page_size: int, *, newest_first: bool) -> AsyncIterator[list[str]]:
        """Pages of encoded views in the order the orders were accepted, or its reverse."""
        position = None
        while True:
            accepted = await self.journal.read(
                self.history.accepted, position, page_size, newest_first
            )
            if not accepted:
                return
            position = accepted[-1][0]
            order_ids = [order_id for _, order_id in accepted]
            retired = [order_id for order_id in order_ids if order_id not in self.live]
            read_back = await self.journal.read(self._encode_retired, retired)
            page = []
            for order_id in order_ids:
                if order_id in read_back:
                    text = read_back[order_id]
                else:
                    text = self._encode_live(order_id)
                    await trio.lowlevel.checkpoint()
                if text is not None:
                    page.append(text)
            yield page

    def _encode_live(self, order_id: str) -> str | None:
        """The encoded view of an order that was live when its page was read, if ``visible``
        keeps it (Trio thread); one retired since is read back from the journal by index."""
        order = self.live.get(order_id)
        if order is None:
            order = SmartOrder.replay(self.journal.events_of(order_id))
            return encoded_view(order) if self.visible(order) else None
        return self.encode_live(order) if self.visible(order) else None

    def _encode_retired(self, order_ids: Sequence[str]) -> dict[str, str | None]:
        """The encoded views of the retired ``order_ids``, None for one ``visible`` leaves
        out (worker thread)."""
        encoded: dict[str, str | None] = {}
        for order_id, events in self.history.events_of(order_ids).items():
            order = SmartOrder.replay(events)
            encoded[order_id] = encoded_view(order) if self.visible(order) else None
        return encoded
