"""One Trio task per smart order: the only code that changes that order's state.

The runner sleeps until the next slice is due or a message arrives in its inbox (a venue report,
an EMS session change, a cancel or an update). Every change goes the same way: the domain decides
an event, the journal makes it durable, the order applies it, the feed tells the clients. Child
orders are journaled before they are sent; fills are journaled before they are announced.

Three things happen on the runner's behalf without waking it, each while it waits in its inbox
with nothing half done: a venue's report put there is booked at once (``_book_while_waiting``),
and a fill, or a slice planned ahead, takes effect on the turn its commit is learned
(``_record_soon``): the slice is staged right there. Waking the task for each cost a task switch
and a turn of its loop, for nothing else.

A slice is planned and journaled ``slice_lead`` before it is due, and its children are sent when
it is due, by the engine's alarm task (``staging``): the journal's commit (a turn of the writer
thread and of Trio's scheduler, milliseconds under load) is then not part of how late they leave.
Whatever could change the slice before it goes (a cancel, a change, a halt, the session going
down, the order ending, a reconciliation) takes the staged children back first, as children not
sent; the next slice catches them up.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import attrs
import structlog
import trio

from sor_daemon import failpoints
from sor_daemon.domain.events import (
    ChildPlanned,
    ChildReported,
    Event,
    MarketSampled,
    ParametersChanged,
    StatusChanged,
)
from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.risk import RiskLimits
from sor_daemon.domain.router import VenueBook
from sor_daemon.domain.smart_order import SlicePlan, SmartOrder
from sor_daemon.domain.values import ChildReport, ChildStatus, Fill, OrderStatus
from sor_daemon.engine.clock import Clock
from sor_daemon.engine.feed import Feed
from sor_daemon.engine.inbox import Alarms, Inbox
from sor_daemon.engine.ports import MarketView, OrderGateway, SessionDown, SessionUp
from sor_daemon.engine.presenting import feed_fills, status_change, trade_fill, trade_request
from sor_daemon.engine.report_lag import ReportLag
from sor_daemon.engine.risk_gate import RiskGate
from sor_daemon.engine.settings import TradingSettings
from sor_daemon.engine.staging import StagedSlice, not_sent
from sor_daemon.logs import debug_enabled
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import ParameterChanges
from sor_daemon.store.journal import Batch, Journal

log = structlog.get_logger(__name__)

_CLOCK_TOLERANCE = timedelta(milliseconds=1)
"""How far before a slice's planning time a runner woken for it may read the clock (the alarm
rings on Trio's clock, ``now`` is read from the wall's)."""


@attrs.define
class Reply:
    """A one-shot answer from a runner to whoever sent it a command."""

    done: trio.Event = attrs.Factory(trio.Event)
    error: ProtocolError | None = None

    def succeed(self) -> None:
        """The command was carried out."""
        self.done.set()

    def fail(self, error: ProtocolError) -> None:
        """The command was refused; ``error`` says why."""
        self.error = error
        self.done.set()

    async def wait(self) -> None:
        """Wait for the answer; re-raise the refusal, if any."""
        await self.done.wait()
        if self.error is not None:
            raise self.error


@attrs.frozen
class Cancel:
    """Cancel the smart order (``client_ref``: the client's reference for the cancel)."""

    reason: str
    reply: Reply
    client_ref: str | None = None


@attrs.frozen
class Change:
    """Change the smart order's parameters (``client_ref``: the client's reference for it)."""

    changes: ParameterChanges
    reply: Reply
    client_ref: str | None = None


@attrs.frozen
class Halt:
    """Stop sending child orders until ``Resume`` (the kill switch)."""

    reason: str


@attrs.frozen
class Resume:
    """Trade again after a ``Halt``: missed slices merge into one catch-up slice."""


@attrs.frozen
class Booked:
    """What was recorded without waiting (``OrderRunner._record_soon``) took effect, and the order
    has something to settle: its runner, not woken for it otherwise, acts on it."""


Message = ChildReport | SessionUp | SessionDown | Cancel | Change | Halt | Resume | Booked

Observer = Callable[[SmartOrder, Event, Fill | None], None]
"""Told of every event a runner records, after the order applied it (with the fill it booked,
if any). It runs on the runner's task and must not block; FIX order entry reports through it."""


@attrs.define
class Services:
    """What every runner shares: the journal, the gateway, the market, the feed, the clock, the
    risk gate (on the default limits unless one is given), the observers of its events and how
    late the EMS answers (``report_lag``)."""

    journal: Journal
    gateway: OrderGateway
    market: MarketView
    feed: Feed
    clock: Clock
    settings: TradingSettings
    risk: RiskGate = attrs.field(
        default=attrs.Factory(lambda self: RiskGate(RiskLimits(), self.clock), takes_self=True)
    )
    observers: list[Observer] = attrs.Factory(list)
    report_lag: ReportLag = attrs.Factory(ReportLag)


class OrderRunner:
    """Drives one smart order from its schedule and its inbox until it is over."""

    def __init__(
        self,
        order: SmartOrder,
        instruments: Sequence[Instrument],
        services: Services,
        inbox: Inbox[Message],
        alarms: Alarms,
    ) -> None:
        self.order = order
        self._instruments = list(instruments)
        self._services = services
        self._inbox = inbox
        self._alarms = alarms
        self._down_since: datetime | None = None if services.gateway.is_up else services.clock.now()
        self._retry_at: datetime | None = None
        self._reconcile_by: datetime | None = None
        self._staged: StagedSlice | None = None
        self._unbooked = 0
        """Reports and slices recorded without waiting that have not taken effect yet."""
        self._booking: Batch | None = None
        """The journal's batch holding the latest of them."""
        self._booking_failure: Exception | None = None
        """What applying one of them raised, for the runner to raise."""
        self._halted = services.risk.halted
        self._feed_fills = feed_fills()
        self._log = log.bind(smart_order_id=order.id)

    @property
    def finished(self) -> bool:
        """True once the order is final and no child of it can fill any more."""
        return self.order.status.terminal and not self.order.open_children

    async def run(self) -> None:
        """Trade the order to its end, then return; its symbols are watched meanwhile."""
        symbol_ids = [instrument.symbol_id_coinapi for instrument in self._instruments]
        self._services.market.watch(symbol_ids)
        try:
            await self._run()
        finally:
            self._services.market.unwatch(symbol_ids)

    async def _run(self) -> None:
        if self._down_since is None:
            await self._reconcile()
        if self._halted is not None and self._reconcile_by is None:
            await self._set_info(self._idle_info())
        await self._settle()
        while not self.finished:
            message = self._queued()
            if message is None:
                # While something recorded is on its way, the deadline follows from its effect.
                deadline = math.inf if self._unbooked else self._deadline()
                message = await self._inbox.get(deadline, meanwhile=self._book_while_waiting)
            if await self._take_booked():
                await self._settle()  # a fill that completed the order ends it before all else
            # Only the wait is bounded by the deadline: handling a message is never cut short,
            # or a deadline passing mid-way would act on half-changed state.
            if message is not None:
                await self._handle(message)
            elif not self.finished:
                await self._on_time()
            await self._settle()
        await self._answer_late_messages()
        self._log.info("smart order finished", status=self.order.status.value)

    def _queued(self) -> Message | None:
        """The oldest message already waiting, if any.

        What has arrived is handled before a deadline is acted on: an order running late would
        otherwise find its deadline already past at every wait, never read the reports waiting
        for it, and take its children for lost."""
        try:
            return self._inbox.get_nowait()
        except trio.WouldBlock:
            return None

    async def _answer_late_messages(self) -> None:
        """Handle what arrived for an order that is over (a refused cancel, a late report)."""
        while (message := self._queued()) is not None:
            await self._take_booked()
            await self._handle(message)
        await self._take_booked()

    def _deadline(self) -> float:
        """When the runner is to act with nothing arriving (Trio's time; inf: never)."""
        wake_at = self._wake_at()
        return math.inf if wake_at is None else self._services.clock.deadline(wake_at)

    def _wake_at(self) -> datetime | None:
        if self._down_since is not None:
            grace = self._services.settings.session_down_grace
            if grace is None or self.order.status.terminal:
                return None
            return self._down_since + grace
        if self._reconcile_by is not None:
            return self._reconcile_by
        overdue_at = self._overdue_at()
        if self.order.status.terminal or self._halted is not None:
            return overdue_at
        wake_at = self.order.next_due()
        if wake_at is not None:
            wake_at -= self._services.settings.slice_lead
            if self._retry_at is not None:
                wake_at = max(wake_at, self._retry_at)
        return min((at for at in (wake_at, overdue_at) if at is not None), default=None)

    def _overdue_at(self) -> datetime | None:
        """When the oldest open child will have gone unreported for ``reconcile_timeout`` past
        how late the EMS answers now (``report_lag``).

        Children are IOC: the venue answers at once. One that is still open that long after it
        was sent lost its report on the way, so the EMS is asked about it (and about every other
        open child) before anything new is sent.
        """
        open_children = self.order.open_children
        if not open_children:
            return None
        oldest = min(child.planned_at for child in open_children)
        return oldest + self._services.settings.reconcile_timeout + self._services.report_lag.lag

    async def _on_time(self) -> None:
        now = self._services.clock.now()
        if self._down_since is not None:
            grace = self._services.settings.session_down_grace
            await self._record(
                StatusChanged(
                    self.order.id,
                    OrderStatus.FAILED,
                    f"the EMS session was down for more than {grace.total_seconds():g} seconds",
                    now,
                )
            )
            return
        if self._reconcile_by is not None:
            await self._presume_unanswered(now)
            return
        overdue_at = self._overdue_at()
        if overdue_at is not None and overdue_at <= now:
            self._log.warning("child orders unreported: asking the EMS about them")
            await self._reconcile()
            return
        if self._slice_due(now):
            await self._trade_slice(now)

    def _slice_due(self, now: datetime) -> bool:
        """True when a slice is to be planned now. Not when the runner woke for open children
        that are no longer overdue: the EMS was found to answer later meanwhile."""
        due = self.order.next_due()
        if due is None or self.order.status.terminal or self._halted is not None:
            return False
        return due - self._services.settings.slice_lead <= now + _CLOCK_TOLERANCE

    async def _reconcile(self) -> None:
        """Ask the EMS where every open child stands before anything new is sent.

        Children whose fate is unknown (sent before a restart or a lost session) hold back new
        slices until the EMS answers their status requests, or until ``reconcile_timeout`` past
        how late it answers now.
        """
        await self._unstage("the EMS was asked about open child orders")
        unknown = self.order.open_children
        if not unknown:
            return
        for child in unknown:
            self._services.gateway.request_status(child)
        now = self._services.clock.now()
        self._reconcile_by = now + self._services.settings.reconcile_timeout
        self._reconcile_by += self._services.report_lag.lag
        self._log.info("reconciling child orders", children=[c.id for c in unknown])
        await self._set_info(f"reconciling {len(unknown)} child orders with the EMS")

    async def _presume_unanswered(self, now: datetime) -> None:
        """The EMS did not answer: take each IOC child as done with the CumQty last reported."""
        self._reconcile_by = None
        unanswered = self.order.open_children
        for child in unanswered:
            await self._record(
                self.order.presume_done(child.id, "no answer from the EMS to a status request", now)
            )
        self._log.warning("status requests unanswered", children=[c.id for c in unanswered])
        await self._set_info(
            f"{len(unanswered)} child orders presumed done with their last CumQty: "
            "the EMS did not answer status requests"
        )

    async def _trade_slice(self, now: datetime) -> None:
        settings = self._services.settings
        policy = settings.slice_policy
        venues = self._venue_books()
        waiting = self.order.waiting_for(now, venues, policy)
        if waiting is not None:
            self._retry_at = now + settings.market_data_retry
            if self.order.status_info != waiting:
                self._log.warning("slice waiting", reason=waiting)
            await self._set_info(waiting)
            return
        self._retry_at = None
        index, start, end = self.order.slice_window(now, policy.lead)
        due = self.order.schedule.due(index)
        activity = await self._services.market.activity(
            [instrument.symbol_id_coinapi for instrument in self._instruments], start, end
        )
        if self._services.risk.halted is not None:
            await self._handle(Halt(self._services.risk.halted))
            return
        now = self._services.clock.now()
        screen = functools.partial(self._services.risk.screen, send_at=due)
        plan = self.order.plan_slice(now, self._venue_books(), activity, policy, screen)
        if plan.risk is not None:
            self._log.warning("risk check", slice=plan.sample.slice_index, reason=plan.risk)
        if plan.skipped is not None:
            self._log.info(
                "slice skipped", slice=plan.skipped.slice_index, reason=plan.skipped.reason
            )
            await self._record(*plan.events)
            info = plan.risk or plan.waiting
            if info is not None:
                await self._set_info(info)
            return
        if plan.routing is not None and plan.routing.left_out:
            self._log.info("venues left out of slice", reasons=plan.routing.explain())
        self._journal_slice(plan, due)

    def _journal_slice(self, plan: SlicePlan, due: datetime) -> None:
        """Journal the slice (and the end of any wait it was in, or what the risk gate changed)
        without waiting: the moment it is durable it is applied and announced, its children
        are open from there, and they are staged to be sent at ``due`` (at once if that has
        passed). The runner goes back to waiting meanwhile: woken for the commit, it did only
        that."""
        events = plan.events
        if self.order.status_info != plan.risk:
            info = StatusChanged(self.order.id, self.order.status, plan.risk, plan.sample.at)
            events.insert(1, info)

        def stage() -> None:
            failpoints.reached(failpoints.CHILD_JOURNALED)
            gateway, risk = self._services.gateway, self._services.risk
            staged = StagedSlice(plan.children, gateway, risk, self._inbox.put, self._log)
            self._alarms.set(self._services.clock.deadline(due), staged)
            self._staged = staged

        self._record_soon(*events, then=stage)

    async def _unstage(self, why: str) -> None:
        """Take back the slice staged for its due time, unless it was sent: its children end
        unsent."""
        staged, self._staged = self._staged, None
        children = () if staged is None else staged.withdraw()
        if children:
            self._log.info("staged slice not sent", reason=why)
        for child in children:
            await self._on_report(not_sent(child, f"{why} before it was due"))

    def _venue_books(self) -> list[VenueBook]:
        market = self._services.market
        return [
            VenueBook(instrument, market.book(instrument.symbol_id_coinapi))
            for instrument in self._instruments
        ]

    async def _handle(self, message: Message) -> None:
        match message:
            case ChildReport():
                await self._on_report(message)
            case SessionUp():
                await self._on_session_up()
            case SessionDown():
                await self._on_session_down(message)
            case Cancel():
                await self._on_command(
                    message.reply,
                    lambda now: self.order.cancel(message.reason, now, message.client_ref),
                    "the smart order was cancelled",
                )
            case Change():
                await self._on_command(
                    message.reply,
                    lambda now: self._change(message, now),
                    "the smart order was changed",
                )
            case Halt():
                self._halted = message.reason
                await self._unstage("trading was halted")
                await self._set_info(self._idle_info())
            case Resume():
                self._halted = None
                if self._down_since is None:
                    await self._set_info(None)
            case Booked():
                pass  # what it is for follows: the runner settles the order and loops

    def _change(self, change: Change, now: datetime) -> ParametersChanged:
        changes = change.changes
        event = self.order.change(changes, self._instruments, now, change.client_ref)
        if changes.amount is not None:
            self._services.risk.check_order(event.params.amount, self._instruments)
        return event

    def _idle_info(self) -> str | None:
        """The status info of an order with nothing pending: why it is halted, if it is."""
        return None if self._halted is None else f"halted: {self._halted}"

    async def _on_report(self, report: ChildReport) -> None:
        event = self._interpret(report)
        if event is not None:
            if self._reconcile_by is None or self._only_acknowledges(event):
                self._book_soon(event)
            else:
                await self._record(event)
        if self._reconcile_by is not None and not self.order.open_children:
            self._reconcile_by = None
            self._log.info("child orders reconciled")
            await self._set_info(self._idle_info())

    def _book_while_waiting(self, message: Message) -> bool:
        """Book a venue's report put in the inbox while the runner waits there, without waking
        it; True if it was. Not while reconciling, nor while an earlier report or slice has yet
        to take effect: the runner handles those itself. Once a fill takes effect, the wait's
        deadline is what the order knows then makes it (``_record_soon``), or the runner is
        woken when the order has something to settle (``Booked``).

        The runner was woken for every report before, only to book it and wait again: a task
        switch and a turn of its loop each time. The order's state still changes on behalf of
        its task only, while it waits at that one point, with nothing of it half done."""
        if not isinstance(message, ChildReport) or self._reconcile_by is not None or self._unbooked:
            return False
        try:
            event = self._interpret(message)
            if event is not None:
                self._book_soon(event)
        except Exception as error:
            self._booking_failure = error  # raised on the runner's task, which this wakes
            return False
        return True

    def _interpret(self, report: ChildReport) -> ChildReported | None:
        """The event a report means for the order, if any."""
        now = self._services.clock.now()
        self._note_how_late(report, now)
        event = self.order.interpret(report, now)
        if event is not None:
            failpoints.reached(failpoints.REPORT_RECEIVED)
        return event

    def _book_soon(self, event: ChildReported) -> None:
        """Book a report without waiting for its commit: an acknowledgement at once, anything
        else the moment it is durable (``_record_soon``)."""
        if self._only_acknowledges(event):
            self._services.journal.append_unawaited(event)
            self._announce(event, self.order.apply(event))
        else:
            self._record_soon(event)

    def _note_how_late(self, report: ChildReport, now: datetime) -> None:
        """A child's first report tells how late the EMS answers; not an answer to a status
        request, which may come long after the child was sent."""
        if self._reconcile_by is not None:
            return
        child = self.order.children.get(report.child_id)
        if child is not None and child.status is ChildStatus.PENDING_NEW:
            self._services.report_lag.observe(child.planned_at, now)

    def _only_acknowledges(self, event: ChildReported) -> bool:
        """True for a report that moves a child on without a fill or an end (the venue's
        acknowledgement): nothing is announced for it and the EMS would tell it again after a
        restart, so it is journaled without waiting. An IOC child's fill comes right behind its
        acknowledgement; waiting for the acknowledgement's commit first cost the fill a
        millisecond at the median."""
        child = self.order.children[event.child_id]
        return event.cum_qty == child.cum_qty and not event.status.terminal

    async def _on_session_up(self) -> None:
        if self._down_since is None:
            return
        self._down_since = None
        await self._set_info(self._idle_info())
        await self._reconcile()

    async def _on_session_down(self, message: SessionDown) -> None:
        if self._down_since is not None:
            return
        self._down_since = self._services.clock.now()
        await self._unstage("the EMS session went down")
        await self._set_info(f"paused: {message.reason}")

    async def _on_command(
        self, reply: Reply, decide: Callable[[datetime], Event], unstage_why: str
    ) -> None:
        """Carry out a command, or refuse it having changed nothing; one carried out takes back
        the staged slice first, planned on what the command changes."""
        try:
            event = decide(self._services.clock.now())
        except ProtocolError as error:
            reply.fail(error)
            return
        await self._unstage(unstage_why)
        await self._record(event)
        reply.succeed()

    async def _set_info(self, info: str | None) -> None:
        if self.order.status.terminal or self.order.status_info == info:
            return
        await self._record(
            StatusChanged(self.order.id, self.order.status, info, self._services.clock.now())
        )

    async def _settle(self) -> None:
        if self._unbooked:
            return  # settled once they took effect: ``Booked``
        event = self.order.settle(
            self._services.clock.now(), self._services.settings.max_consecutive_rejects
        )
        if event is None:
            return
        if event.status.terminal:
            # One commit for both: many orders can end in the same second (a schedule's end).
            await self._record(await self._close_sample(), event)
            await self._unstage("the smart order ended")
        else:
            await self._record(event)

    async def _close_sample(self) -> MarketSampled:
        """The market since the last slice, so the final execution quality covers the whole
        life of the order."""
        start, end = self.order.closing_window(self._services.clock.now())
        activity = None
        if end > start:
            activity = await self._services.market.activity(
                [instrument.symbol_id_coinapi for instrument in self._instruments], start, end
            )
        now = self._services.clock.now()
        return self.order.close_sample(now, activity, self._venue_books())

    async def _record(self, *events: Event) -> None:
        """Journal, apply, announce: the one path every state change takes.

        The events are applied and announced on the turn of the scheduler that learns they
        are durable (``Journal.append``'s ``then``), not a turn later when this runner wakes:
        a fill reaches the screen that much sooner. The runner is waiting for that append
        meanwhile, so nothing of it runs in between; an error applying them is raised here."""
        failures: list[Exception] = []

        def take_effect() -> None:
            try:
                for event in events:
                    self._announce(event, self.order.apply(event))
            except Exception as error:
                failures.append(error)

        try:
            await self._services.journal.append(*events, then=take_effect)
        finally:
            if failures:
                raise failures[0]

    def _record_soon(self, *events: Event, then: Callable[[], None] | None = None) -> None:
        """Journal events and go on without waiting for them: they are applied and announced
        the moment they are durable, as ``_record`` does, and ``then`` is called after them.
        The runner waits for that only before it next acts (``_take_booked``); a runner waiting
        meanwhile is told (``Booked``) when the order has something to settle then, or else its
        wait's deadline moves to what the order now makes it. A runner that waited for the
        commit woke once more for every fill and every slice only to go back to waiting."""
        self._unbooked += 1

        def take_effect() -> None:
            self._unbooked -= 1
            try:
                for event in events:
                    self._announce(event, self.order.apply(event))
                if then is not None:
                    then()
            except Exception as error:
                self._booking_failure = error
            if self._unbooked:
                return
            if self._booking_failure is not None or self._has_to_settle():
                self._inbox.put(Booked())
            else:
                self._inbox.wait_until(self._deadline())

        self._booking = self._services.journal.append_soon(*events, then=take_effect)

    def _has_to_settle(self) -> bool:
        """True when the order is over, or reaches a status with what it knows now."""
        settings = self._services.settings
        now = self._services.clock.now()
        return self.finished or self.order.settle(now, settings.max_consecutive_rejects) is not None

    async def _take_booked(self) -> bool:
        """Wait until everything recorded without waiting has taken effect; raise what applying
        it raised, or ``JournalClosed``. True if there was any since the last call."""
        booking, self._booking = self._booking, None
        if booking is not None:
            await booking.wait()
        failure, self._booking_failure = self._booking_failure, None
        if failure is not None:
            raise failure
        return booking is not None

    def _announce(self, event: Event, fill: Fill | None) -> None:
        self._observe(event, fill)
        if fill is not None and debug_enabled():
            self._log.debug(
                "fill booked",
                child_order_id=fill.child_id,
                exchange=fill.exchange,
                quantity=str(fill.quantity),
                price=str(fill.price),
            )
        if isinstance(event, StatusChanged):
            quality = {}
            if event.status.terminal:
                quality = {k: _plain(v) for k, v in attrs.asdict(self.order.quality()).items()}
            self._log.info("status", status=event.status.value, info=event.info, **quality)
        self._publish(event, fill)

    def _publish(self, event: Event, fill: Fill | None) -> None:
        """Put the event on the feed, encoded only when a subscriber will receive it."""
        feed, origin = self._services.feed, self.order.origin
        if not feed.wants(origin):
            return
        if isinstance(event, ChildPlanned):
            feed.publish(trade_request(event), origin)
        if fill is not None:
            feed.publish(trade_fill(self.order, fill, self._feed_fills), origin)
        if isinstance(event, StatusChanged | ParametersChanged):
            feed.publish(status_change(self.order, self._feed_fills), origin)

    def _observe(self, event: Event, fill: Fill | None) -> None:
        """Tell every observer; one that fails is logged, and the order trades on."""
        for observer in self._services.observers:
            try:
                observer(self.order, event, fill)
            except Exception:
                self._log.exception("an event observer failed", event=type(event).__name__)


def _plain(value: object) -> str | None:
    """A quality figure for the log: a plain decimal string, or None."""
    return None if value is None else f"{value:f}"
