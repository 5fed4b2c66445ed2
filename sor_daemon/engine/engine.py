"""The engine: accepts smart orders, runs one task each, and routes the EMS's news to them.

It is the one public face the API and the FIX order entry talk to: ``submit``, ``cancel``,
``change``, ``get`` and ``order_views``, and the kill switch: ``halt``, ``resume`` and
``halted``. On start it rebuilds every live smart order from the journal, restores a halt that
was in force, and resumes the ones still running on their original schedule.

Only live orders are kept in memory: running ones, and finished ones whose runner is still
settling them. An order that is over is retired in the journal and dropped from memory (freed
in an idle moment: ``reclaim``); asking for it again reads it back from the journal. So memory
and start-up time follow what is live, however long the history grows.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable

import structlog
import trio

from sor_daemon.domain.events import OrderAccepted
from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.domain.smart_order import SmartOrder
from sor_daemon.domain.validation import instruments_for
from sor_daemon.domain.values import ChildReport
from sor_daemon.engine.inbox import Alarms, Inbox
from sor_daemon.engine.listing import Visible, order_views
from sor_daemon.engine.ports import GatewayEvent, GatewayNews
from sor_daemon.engine.presenting import ViewLists, encoded_view, status_change
from sor_daemon.engine.reclaim import Reclaimer
from sor_daemon.engine.runner import (
    Cancel,
    Change,
    Halt,
    Message,
    OrderRunner,
    Reply,
    Resume,
    Services,
)
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import NewSmartOrder, ParameterChanges
from sor_daemon.store.halt import HaltFile, HaltState
from sor_daemon.store.journal import JournalClosed

log = structlog.get_logger(__name__)

USER_CANCEL_REASON = "User requested cancel"


class Engine:
    """Owns the set of smart orders; each order's state is changed by its own runner only."""

    def __init__(
        self,
        services: Services,
        instruments: InstrumentTable,
        gateway_news: GatewayNews,
        halt_file: HaltFile | None = None,
    ) -> None:
        self.services = services
        self.instruments = instruments
        self._gateway_news = gateway_news
        self._halt_file = halt_file or HaltFile(None)
        self.halt_state: HaltState | None = None
        self._orders: dict[str, SmartOrder] = {}
        self._view_lists: dict[str, ViewLists] = {}
        self._retired: Counter[str] = Counter()
        self._inboxes: dict[str, Inbox[Message]] = {}
        self._alarms = Alarms()
        self._reclaimer = Reclaimer()
        self._accepting: set[str] = set()
        self._nursery: trio.Nursery | None = None
        self._restored = False

    async def restore(self) -> None:
        """Read every live order back from the journal as it stood (once; ``run`` does it if
        nobody did before). With 10,000 live orders that is seconds of CPU, done where the
        journal reads (a worker thread), so that the daemon can start its FIX sessions
        meanwhile: the EMS session's process starts on the machine's other core."""
        if not self._restored:
            self._restored = True
            await self.services.journal.read(self._restore)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Restore from the journal, resume running orders, then serve until cancelled."""
        await self.restore()
        self._set_halt(self._halt_file.load())
        if self.halt_state is not None:
            log.warning("trading is halted", reason=self.halt_state.reason)
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._alarms.run)
                nursery.start_soon(self._reclaimer.run)
                for order in list(self._orders.values()):
                    if _is_over(order):
                        nursery.start_soon(self._retire, order)
                    else:
                        self._start_runner(order)
                self._gateway_news.listen(self._route_gateway_event)
                task_status.started()
                try:
                    await trio.sleep_forever()  # runners come and go; the engine serves on
                finally:
                    self._nursery = None  # the runners are stopping: none starts again
        finally:
            self._gateway_news.listen(None)

    # ---- the public face ---------------------------------------------------------------------

    def live_orders(self) -> Iterable[SmartOrder]:
        """The smart orders in memory (running, or finished and not yet retired), oldest first."""
        return self._orders.values()

    def order_views(self, visible: Visible, newest: int | None = None) -> AsyncIterator[list[str]]:
        """The encoded views of the orders ``visible`` keeps, live and retired, oldest first,
        a page at a time: every one, or the ``newest`` ones (see ``listing``)."""
        journal = self.services.journal
        return order_views(journal, self._orders, self.encoded_view, visible, newest)

    def encoded_view(self, order: SmartOrder) -> str:
        """``order`` as GET /requests lists it, as JSON text. A live order's fills and market
        samples stay encoded between views, until it is retired (``presenting.ViewLists``)."""
        if self._orders.get(order.id) is not order:
            return encoded_view(order)
        return encoded_view(order, self._view_lists.setdefault(order.id, ViewLists()))

    def status_counts(self) -> Counter[str]:
        """How many smart orders are in each status, retired ones included."""
        counts = Counter(order.status.value for order in self._orders.values())
        counts.update(self._retired)
        return counts

    def with_client_ref(self, client_ref: str) -> list[str]:
        """The ids of the orders whose current client reference is ``client_ref``, newest first:
        live ones, then retired ones."""
        live = [order.id for order in self._orders.values() if order.client_ref == client_ref]
        return [*reversed(live), *self.services.journal.retired_with_client_ref(client_ref)]

    def get(self, order_id: str) -> SmartOrder:
        """One smart order, read back from the journal if it is retired; raises ProtocolError
        ORDER_ID_NOT_FOUND if there is none."""
        order = self._orders.get(order_id)
        if order is not None:
            return order
        events = self.services.journal.events_of(order_id)
        if not events:
            raise ProtocolError("ORDER_ID_NOT_FOUND", f"there is no smart order with id {order_id}")
        return SmartOrder.replay(events)

    async def submit(self, request: NewSmartOrder, origin: str = "api") -> SmartOrder:
        """Validate, journal and start a new smart order; raises ProtocolError if refused."""
        instruments = instruments_for(request, self.instruments)
        if self.halt_state is not None:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"trading is halted ({self.halt_state.reason}); no smart order is accepted "
                "until POST /v1/sor/resume",
            )
        self.services.risk.check_order(request.parameters.amount, instruments)
        order_id = request.id or str(uuid.uuid4())
        if (
            order_id in self._orders
            or order_id in self._accepting
            or self.services.journal.has_order(order_id)
        ):
            raise ProtocolError("INVALID_PARAMETER", f"a smart order with id {order_id} exists")
        self._accepting.add(order_id)
        try:
            order = await self._accept(request, order_id, origin)
        finally:
            self._accepting.discard(order_id)
        self.services.feed.publish(status_change(order), order.origin)
        self._start_runner(order)
        return order

    async def _accept(self, request: NewSmartOrder, order_id: str, origin: str) -> SmartOrder:
        event = OrderAccepted(
            order_id=order_id,
            algorithm=request.algorithm,
            exchanges=request.exchanges,
            params=request.parameters,
            at=self.services.clock.now(),
            origin=origin,
        )
        await self.services.journal.append(event)
        order = SmartOrder.accept(event)
        self._orders[order_id] = order
        log.info(
            "smart order accepted",
            smart_order_id=order_id,
            algorithm=order.algorithm,
            symbol=order.params.symbol,
            side=order.params.side.value,
            amount=str(order.amount),
            exchanges=list(order.exchanges),
        )
        return order

    async def cancel(
        self, order_id: str, reason: str = USER_CANCEL_REASON, client_ref: str | None = None
    ) -> SmartOrder:
        """Cancel a running smart order; raises ProtocolError if unknown or already over.

        ``client_ref`` (a FIX cancel's ClOrdID) is journaled with the cancel: the order's
        ``client_ref`` from then on, across restarts."""
        order = self.get(order_id)
        reply = Reply()
        self._deliver(order, Cancel(reason, reply, client_ref))
        await reply.wait()
        return order

    async def change(
        self, order_id: str, changes: ParameterChanges, client_ref: str | None = None
    ) -> SmartOrder:
        """Change a running order's amount, duration or interval; ProtocolError if refused.

        ``client_ref`` (a FIX amend's new ClOrdID) is journaled with the change, as for
        ``cancel``."""
        order = self.get(order_id)
        reply = Reply()
        self._deliver(order, Change(changes, reply, client_ref))
        await reply.wait()
        return order

    @property
    def halted(self) -> bool:
        """True while the kill switch is on: no runner sends a child order."""
        return self.halt_state is not None

    async def halt(self, reason: str) -> dict[str, bool]:
        """Stop every algorithm at once and cancel every order at every venue.

        The halt is made durable first (it survives a restart), then no runner plans another
        slice (running orders stay Running, their statusInfo saying ``halted: reason``), then an
        OrderMassCancelRequest goes to each venue. Halting again sends the mass cancels again.
        Returns, per venue, whether its mass cancel was sent (False: the session is down).
        """
        state = self.halt_state or HaltState(reason, self.services.clock.now())
        self._halt_file.save(state)
        self._set_halt(state)
        log.warning("trading halted", reason=state.reason)
        for inbox in list(self._inboxes.values()):
            inbox.put(Halt(state.reason))
        sent = {}
        for exchange in sorted(self.instruments.exchanges):
            sent[exchange] = self.services.gateway.mass_cancel(exchange)
        log.info("mass cancel requested", sent=sent)
        return sent

    async def resume(self) -> None:
        """Lift the halt: running orders trade again, missed slices merged into one."""
        if self.halt_state is None:
            return
        self._halt_file.save(None)
        self._set_halt(None)
        log.warning("trading resumed")
        for inbox in list(self._inboxes.values()):
            inbox.put(Resume())

    # ---- inside ------------------------------------------------------------------------------

    def _set_halt(self, state: HaltState | None) -> None:
        self.halt_state = state
        self.services.risk.halted = None if state is None else state.reason

    def _restore(self) -> None:
        journal = self.services.journal
        for event in journal.replay_live():
            if isinstance(event, OrderAccepted):
                self._orders[event.order_id] = SmartOrder.accept(event)
            else:
                self._orders[event.order_id].apply(event)
        self._retired = journal.retired_statuses()
        running = sum(1 for order in self._orders.values() if not order.status.terminal)
        log.info(
            "journal replayed",
            smart_orders=len(self._orders),
            running=running,
            retired=self._retired.total(),
        )

    async def _retire(self, order: SmartOrder) -> None:
        """Retire an order that is over and drop it from memory (it stays in memory, to be
        retired at the next start, if the journal is closing)."""
        if not _is_over(order):
            return
        try:
            last_ref = order.client_refs[-1] if order.client_refs else None
            await self.services.journal.retire(order.id, order.status.value, last_ref)
        except JournalClosed:
            return
        self._view_lists.pop(order.id, None)
        if self._orders.pop(order.id, None) is not None:
            self._retired[order.status.value] += 1

    def _instruments_of(self, order: SmartOrder) -> list[Instrument]:
        params = order.params
        found = (
            self.instruments.find(e, params.symbol, params.symbol_type) for e in order.exchanges
        )
        return [instrument for instrument in found if instrument is not None]

    def _start_runner(self, order: SmartOrder) -> Inbox[Message] | None:
        """Start the order's runner; its inbox, or None once the engine is stopping (the order
        is in the journal, and runs again at the next start)."""
        if self._nursery is None:
            log.info(
                "engine stopping: the order runs again at the next start", smart_order_id=order.id
            )
            return None
        inbox = self._inboxes[order.id] = Inbox[Message](self._alarms)
        instruments = self._instruments_of(order)
        runner = OrderRunner(order, instruments, self.services, inbox, self._alarms)
        self._nursery.start_soon(self._run_runner, runner)
        return inbox

    async def _run_runner(self, runner: OrderRunner) -> None:
        try:
            await runner.run()
        finally:
            self._inboxes.pop(runner.order.id, None)
        if runner.order.id not in self._inboxes:
            await self._retire(runner.order)
        self._reclaimer.release(runner)  # and the order with it, once retired

    def _deliver(self, order: SmartOrder, message: Message) -> None:
        """Hand a message to the order's runner, waking a finished order's runner if needed.
        Once the engine is stopping, one with no runner is dropped: the order is reconciled
        with the EMS at the next start."""
        inbox = self._inboxes.get(order.id)
        if inbox is None:
            inbox = self._start_runner(order)
        if inbox is not None:
            inbox.put(message)

    def _route_gateway_event(self, event: GatewayEvent) -> None:
        """Put an EMS report into its order's inbox, and session news into every inbox: on the
        bridge's turn, with no task between the FIX session and the runner."""
        if isinstance(event, ChildReport):
            order_id = event.child_id.rpartition("-")[0]
            order = self._orders.get(order_id)
            if order is None or event.child_id not in order.children:
                log.warning("report for an unknown child order", child_order_id=event.child_id)
                return
            self._deliver(order, event)
        else:
            for inbox in list(self._inboxes.values()):
                inbox.put(event)


def _is_over(order: SmartOrder) -> bool:
    """True once an order trades no more and no child order of it is open."""
    return order.status.terminal and not order.open_children
