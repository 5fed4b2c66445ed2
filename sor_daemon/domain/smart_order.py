"""The smart order state machine: one parent order, its children, its fills and its schedule.

State changes only through ``apply(event)``. The deciding methods (``plan_slice``, ``interpret``,
``cancel``, ``change``, ``settle``) look at the state and the time they are given and return the
event to journal and apply, or raise ``ProtocolError`` for a request that cannot be honoured. No
clock, no I/O.

The books are kept on cumulative quantity: a fill is the growth of a child's CumQty, so a report
seen twice, or replayed after a restart, books nothing the second time. No child is planned that
could take the filled total past the amount: what is still open at the venue counts as spent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from sor_daemon.domain.children import ChildOrder, Children
from sor_daemon.domain.events import (
    ChildPlanned,
    ChildReported,
    Event,
    MarketSampled,
    OrderAccepted,
    ParametersChanged,
    SliceSkipped,
    StatusChanged,
)
from sor_daemon.domain.instruments import Instrument
from sor_daemon.domain.kept import FlatRows, KeptValues
from sor_daemon.domain.market import MarketActivity, consolidated_mid
from sor_daemon.domain.quality import ExecutionQuality, MarketSums, execution_quality
from sor_daemon.domain.risk import Screened
from sor_daemon.domain.router import (
    Route,
    Routing,
    RoutingPolicy,
    VenueBook,
    route_slice,
    usable_venues,
)
from sor_daemon.domain.schedule import Schedule
from sor_daemon.domain.twap import twap_slice_target
from sor_daemon.domain.values import ChildReport, ChildStatus, Fill, OrderStatus
from sor_daemon.domain.vwap import DEFAULT_SAFETY_THRESHOLD, vwap_slice_target
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import ParameterChanges, SmartOrderParameters

ZERO = Decimal(0)

RouteScreen = Callable[[Sequence[Route], Decimal | None], Screened]
"""The pre-trade risk check a slice's routes pass before they become children: given the routes
and the slice's mid price, the routes that may go out (some clamped) and why others may not."""


@attrs.frozen
class SlicePolicy:
    """The daemon-wide rules a slice is planned by; ``lead`` is how long before its due time a
    slice is planned (see ``SmartOrder.slice_window``)."""

    routing: RoutingPolicy
    complete_at_end: bool = False
    default_safety_threshold: Decimal = DEFAULT_SAFETY_THRESHOLD
    lead: timedelta = timedelta(0)


@attrs.frozen
class SlicePlan:
    """One planned slice: the market sample it was sized on, then its children or why none.

    ``events`` is what the runner journals, in order; ``routing`` tells which venues were left
    out and why, for the log; ``risk`` says which children the risk check clamped or refused;
    ``waiting`` says why the order waits when its limit price kept the slice out of the market.
    """

    sample: MarketSampled
    children: tuple[ChildPlanned, ...] = ()
    skipped: SliceSkipped | None = None
    routing: Routing | None = None
    risk: str | None = None
    waiting: str | None = None

    @property
    def events(self) -> list[Event]:
        """The sample, then the children or the skip."""
        tail: list[Event] = [self.skipped] if self.skipped else list(self.children)
        return [self.sample, *tail]


@attrs.define
class SmartOrder:
    """A smart order: built from its ``OrderAccepted`` event, then changed only by ``apply``."""

    id: str
    algorithm: str
    exchanges: tuple[str, ...]
    params: SmartOrderParameters
    created_at: datetime
    origin: str
    schedule: Schedule
    status: OrderStatus = OrderStatus.RUNNING
    status_info: str | None = None
    status_history: list[tuple[OrderStatus, datetime]] = attrs.Factory(list)
    parameter_updates: list[tuple[datetime, SmartOrderParameters]] = attrs.Factory(list)
    children: Children = attrs.Factory(Children)
    """Every child, open or finished, in the order they were planned."""
    fill_rows: FlatRows = attrs.Factory(lambda: FlatRows.of(Fill))
    """Every fill, as rows the collector does not walk (read them as ``fills``)."""
    sample_rows: FlatRows = attrs.Factory(lambda: FlatRows.of(MarketSampled))
    """Every market sample, likewise (read them as ``samples``)."""
    filled: Decimal = ZERO
    filled_notional: Decimal = ZERO
    """The filled quantity times its prices, summed over every fill as it is booked."""
    market_sums: MarketSums = attrs.Factory(MarketSums)
    """What execution quality needs of the samples, summed as each is booked."""
    next_slice: int = 0
    client_refs: list[str] = attrs.Factory(list)

    @classmethod
    def accept(cls, event: OrderAccepted) -> SmartOrder:
        """The order as it stands the moment it is accepted."""
        return cls(
            id=event.order_id,
            algorithm=event.algorithm,
            exchanges=event.exchanges,
            params=event.params,
            created_at=event.at,
            origin=event.origin,
            schedule=Schedule.plan(event.at, event.params.duration, event.params.interval),
            status_history=[(OrderStatus.RUNNING, event.at)],
        )

    @classmethod
    def replay(cls, events: Sequence[Event]) -> SmartOrder:
        """The order its journaled events describe, its ``OrderAccepted`` first."""
        first, *rest = events
        if not isinstance(first, OrderAccepted):
            raise ValueError(f"the events of {first.order_id} do not start with its acceptance")
        order = cls.accept(first)
        for event in rest:
            order.apply(event)
        return order

    # ---- what the state says -------------------------------------------------------------

    @property
    def amount(self) -> Decimal:
        """The total to trade."""
        return self.params.amount

    @property
    def client_ref(self) -> str:
        """The client's current reference for the order: that of its latest change or cancel
        that came with one (``client_refs``), else its id."""
        return self.client_refs[-1] if self.client_refs else self.id

    @property
    def fills(self) -> KeptValues[Fill]:
        """Every fill so far, oldest first."""
        return KeptValues(Fill, self.fill_rows)

    @property
    def samples(self) -> KeptValues[MarketSampled]:
        """Every market sample so far, oldest first."""
        return KeptValues(MarketSampled, self.sample_rows)

    @property
    def in_flight(self) -> Decimal:
        """What open children could still fill."""
        return sum((child.leaves for child in self.children.open()), ZERO)

    @property
    def unplanned(self) -> Decimal:
        """What no child covers yet: the amount less the filled and the in-flight quantities."""
        return max(self.amount - self.filled - self.in_flight, ZERO)

    @property
    def open_children(self) -> list[ChildOrder]:
        """Children the venue may still fill."""
        return list(self.children.open())

    def next_due(self) -> datetime | None:
        """When the next slice is due, or None when no more slices will be traded."""
        if self.status.terminal or self.next_slice >= self.schedule.iterations:
            return None
        return self.schedule.due(self.next_slice)

    # ---- deciding --------------------------------------------------------------------------

    def slice_window(self, now: datetime, lead: timedelta) -> tuple[int, datetime, datetime]:
        """The slice to plan at ``now`` (the next one, or the newest due) and the interval whose
        market activity sizes it: the one before the slice is planned, ``lead`` ahead of its due
        time. Every slice's interval ends ``lead`` before it is due, so that one follows another
        without gap or overlap, and none reaches past ``now``.

        A slice whose successors are due too (the order fell behind) is merged into the newest
        due one: ``slices_left`` counts from there, so the remainder is spread, never doubled.
        """
        index = max(self.next_slice, self.schedule.latest_due(now))
        end = min(self.schedule.due(index) - lead, now)
        return index, end - self.schedule.interval, end

    def waiting_for(
        self, now: datetime, venues: Sequence[VenueBook], policy: SlicePolicy
    ) -> str | None:
        """Why the due slice cannot be planned yet (no usable venue), or None when it can.

        Waiting journals nothing: the runner tries again shortly, and says why in status info.
        """
        if self.unplanned <= 0:
            return None
        usable, left_out = usable_venues(self.params.side, venues, now, policy.routing.max_book_age)
        if usable:
            return None
        return "no usable market data: " + "; ".join(f"{ex}: {why}" for ex, why in left_out)

    def plan_slice(
        self,
        now: datetime,
        venues: Sequence[VenueBook],
        activity: MarketActivity | None,
        policy: SlicePolicy,
        screen: RouteScreen | None = None,
    ) -> SlicePlan:
        """The slice ``slice_window`` picks at ``now``: the market sample, then its child orders
        or why it skips.

        ``activity`` is what the market traded in ``slice_window``'s interval on the
        order's venues (None when unknown): VWAP sizes the slice from it, and every order keeps
        it for its execution quality. ``screen`` (the risk gate) passes, clamps or refuses each
        route; a refused share stays unplanned, so later slices catch it up. A slice the limit
        price keeps out of the market is skipped the same way, and the plan says the order waits.
        """
        index, start, end = self.slice_window(now, policy.lead)
        sample = self._sample(index, start, end, activity, venues, now)
        target, why_nothing = self._slice_target(index, sample.volume, policy)
        if target <= 0:
            return SlicePlan(sample, skipped=SliceSkipped(self.id, index, why_nothing, now))
        routing = route_slice(
            target,
            self.params.side,
            venues,
            now,
            policy.routing,
            self._rejected_last(venues),
            self.params.limit_price,
        )
        if routing.beyond_limit is not None:
            reason = f"the market is beyond the limit price {routing.beyond_limit.normalize():f}"
            skipped = SliceSkipped(self.id, index, reason, now)
            return SlicePlan(sample, skipped=skipped, routing=routing, waiting=f"waiting: {reason}")
        if not routing.routes:
            reason = f"a slice of {target:f} could not be placed: {routing.explain()}"
            return SlicePlan(sample, skipped=SliceSkipped(self.id, index, reason, now))
        screened = screen(routing.routes, sample.mid) if screen else Screened(routing.routes)
        risk = screened.explain()
        if not screened.routes:
            skipped = SliceSkipped(self.id, index, risk or "every child refused", now)
            return SlicePlan(sample, skipped=skipped, routing=routing, risk=risk)
        children = self._children_for(index, screened.routes, now)
        return SlicePlan(sample, children=children, routing=routing, risk=risk)

    def closing_window(self, now: datetime) -> tuple[datetime, datetime]:
        """The stretch since the last market sample: what the order's life has not sampled yet."""
        start = self.samples[-1].end if self.samples else self.created_at
        return start, max(start, now)

    def close_sample(
        self, now: datetime, activity: MarketActivity | None, venues: Sequence[VenueBook]
    ) -> MarketSampled:
        """The market over ``closing_window(now)``, sampled as the order ends, so its execution
        quality covers its whole life. Its index is past the schedule's last slice."""
        start, end = self.closing_window(now)
        return self._sample(self.schedule.iterations, start, end, activity, venues, now)

    def _sample(
        self,
        index: int,
        start: datetime,
        end: datetime,
        activity: MarketActivity | None,
        venues: Sequence[VenueBook],
        now: datetime,
    ) -> MarketSampled:
        return MarketSampled(
            order_id=self.id,
            slice_index=index,
            start=start,
            end=end,
            volume=activity.volume if activity else None,
            notional=activity.notional if activity else None,
            mid=consolidated_mid([venue.book for venue in venues if venue.book is not None]),
            at=now,
        )

    def _slice_target(
        self, index: int, volume: Decimal | None, policy: SlicePolicy
    ) -> tuple[Decimal, str]:
        """What the slice should trade, and why it trades nothing when that is zero."""
        unplanned = self.unplanned
        if unplanned <= 0:
            reason = "waiting for open child orders" if self.in_flight else "nothing left to trade"
            return ZERO, reason
        slices_left = self.schedule.iterations - index
        if self.algorithm != "VWAP":
            return twap_slice_target(unplanned, slices_left), ""
        if volume is None:
            if slices_left <= 1 and policy.complete_at_end:
                return unplanned, ""
            return ZERO, "the market volume of the last interval is unknown"
        threshold = self.params.safety_threshold or policy.default_safety_threshold
        target = vwap_slice_target(
            unplanned, slices_left, volume, threshold, complete_at_end=policy.complete_at_end
        )
        return target, f"the market traded {volume:f} in the last interval"

    def _rejected_last(self, venues: Sequence[VenueBook]) -> frozenset[str]:
        """Venues that rejected their child in the latest slice that sent any: skipped once.

        When every listed venue rejected, none is skipped: the reject limit decides then.
        """
        rejected = self.children.rejected_in_latest_slice()
        if rejected and rejected >= {venue.exchange for venue in venues}:
            return frozenset()
        return rejected

    def _children_for(
        self, index: int, routes: Sequence[Route], now: datetime
    ) -> tuple[ChildPlanned, ...]:
        planned = []
        for number, route in enumerate(routes, start=len(self.children) + 1):
            planned.append(
                ChildPlanned(
                    order_id=self.id,
                    child_id=f"{self.id}-{number}",
                    slice_index=index,
                    exchange=route.instrument.exchange,
                    symbol_id_coinapi=route.instrument.symbol_id_coinapi,
                    symbol_id_exchange=route.instrument.symbol_id_exchange,
                    side=self.params.side,
                    quantity=route.quantity,
                    price=route.price,
                    at=now,
                )
            )
        return tuple(planned)

    def quality(self) -> ExecutionQuality:
        """How well the order has traded so far against its market (see ``domain.quality``)."""
        return execution_quality(
            self.params.side, self.filled, self.filled_notional, self.market_sums
        )

    def interpret(self, report: ChildReport, now: datetime) -> ChildReported | None:
        """The event a venue report amounts to, or None when it tells nothing new.

        Cumulative quantity only grows: a stale, duplicated or replayed report changes nothing.
        Growth reported after a child was final (a venue that overfills) is still booked: the
        books tell the truth even when the venue misbehaves.
        """
        child = self.children.get(report.child_id)
        if child is None:
            return None
        cum_qty = max(report.cum_qty, child.cum_qty)
        grew = cum_qty > child.cum_qty
        status = report.status
        if child.status.terminal:
            if not grew:
                return None
            if not status.terminal:
                status = child.status
        elif not grew and status in (child.status, ChildStatus.PENDING_NEW):
            return None
        return ChildReported(
            order_id=self.id,
            child_id=child.id,
            status=status,
            cum_qty=cum_qty,
            avg_px=report.avg_px,
            last_qty=report.last_qty,
            last_px=report.last_px,
            text=report.text,
            at=now,
        )

    def presume_done(self, child_id: str, reason: str, now: datetime) -> ChildReported:
        """Close an open child the EMS will not tell us about, at the CumQty last reported.

        Only sound for IMMEDIATE_OR_CANCEL children, which cannot rest at the venue; a fill the
        venue reports later is still booked (see ``interpret``).
        """
        child = self.children[child_id]
        return ChildReported(
            order_id=self.id,
            child_id=child_id,
            status=ChildStatus.CANCELED,
            cum_qty=child.cum_qty,
            avg_px=None,
            last_qty=None,
            last_px=None,
            text=reason,
            at=now,
        )

    def cancel(self, reason: str, now: datetime, client_ref: str | None = None) -> StatusChanged:
        """Stop trading. Children already at the venue may still fill; those fills are booked."""
        if self.status.terminal:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"smart order {self.id} is already {self.status.value} and cannot be cancelled",
            )
        return StatusChanged(self.id, OrderStatus.CANCELLED, reason, now, client_ref)

    def change(
        self,
        changes: ParameterChanges,
        instruments: Sequence[Instrument],
        now: datetime,
        client_ref: str | None = None,
    ) -> ParametersChanged:
        """New amount, duration, interval, safety threshold or limit price for the rest of the
        order, checked against the books.

        The schedule keeps its anchor (duration counts from the start); the next slice is the
        first one of the new grid that is not yet due.
        """
        if self.status.terminal:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"smart order {self.id} is already {self.status.value} and cannot be updated",
            )
        params = attrs.evolve(
            self.params,
            **{
                name: value
                for name in ("amount", "duration", "interval", "safety_threshold", "limit_price")
                if (value := getattr(changes, name)) is not None
            },
        )
        if params.interval.seconds > params.duration.seconds:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"interval {params.interval} is longer than duration {params.duration}",
            )
        committed = self.filled + self.in_flight
        if params.amount < committed:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"amount {params.amount:f} is below the {committed:f} already filled or in flight",
            )
        check_amount_tradable(params.amount, instruments)
        schedule = Schedule.plan(self.schedule.anchor, params.duration, params.interval)
        next_slice = schedule.first_not_before(now)
        if next_slice >= schedule.iterations and params.amount > committed:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"duration {params.duration} ends before now: the order started at "
                f"{self.schedule.anchor:%H:%M:%S} UTC",
            )
        return ParametersChanged(self.id, params, next_slice, now, client_ref)

    def settle(self, now: datetime, max_consecutive_rejects: int) -> StatusChanged | None:
        """The status the order reaches with what it knows now, if that is a change."""
        if self.status.terminal:
            return None
        if self.filled >= self.amount:
            info = None
            if self.filled > self.amount:
                info = f"the venue overfilled: {self.filled:f} filled of {self.amount:f}"
            return StatusChanged(self.id, OrderStatus.COMPLETED, info, now)
        rejects = self.children.rejected_in_a_row()
        if rejects >= max_consecutive_rejects:
            last = next(self.children.newest_first())
            return StatusChanged(
                self.id,
                OrderStatus.FAILED,
                f"the EMS rejected {rejects} child orders in a row: {last.text or 'no reason'}",
                now,
            )
        if self.next_slice >= self.schedule.iterations and not self.open_children:
            left = self.amount - self.filled
            return StatusChanged(
                self.id,
                OrderStatus.EXPIRED,
                f"the schedule ended with {left:f} of {self.amount:f} unfilled",
                now,
            )
        return None

    # ---- applying --------------------------------------------------------------------------

    def apply(self, event: Event) -> Fill | None:
        """Change the state by one journaled event; returns the fill it books, if any."""
        handler: Callable[[SmartOrder, Event], Fill | None] = _APPLY[type(event)]
        return handler(self, event)

    def _apply_planned(self, event: ChildPlanned) -> None:
        child = ChildOrder(
            id=event.child_id,
            slice_index=event.slice_index,
            exchange=event.exchange,
            symbol_id_coinapi=event.symbol_id_coinapi,
            symbol_id_exchange=event.symbol_id_exchange,
            side=event.side,
            quantity=event.quantity,
            price=event.price,
            planned_at=event.at,
        )
        self.children.keep(child)
        self.next_slice = max(self.next_slice, event.slice_index + 1)

    def _apply_sampled(self, event: MarketSampled) -> None:
        self.samples.append(event)
        self.market_sums.add(event, self.created_at)

    def _apply_skipped(self, event: SliceSkipped) -> None:
        self.next_slice = max(self.next_slice, event.slice_index + 1)

    def _apply_reported(self, event: ChildReported) -> Fill | None:
        child = self.children[event.child_id]
        grown = event.cum_qty - child.cum_qty
        fill = None
        if grown > 0:
            price = _fill_price(child, event, grown)
            child.avg_px = (
                event.avg_px
                if event.avg_px
                else ((child.avg_px or ZERO) * child.cum_qty + price * grown) / event.cum_qty
            )
            child.cum_qty = event.cum_qty
            fill = Fill(
                order_id=self.id,
                child_id=child.id,
                exchange=child.exchange,
                symbol_id=child.symbol_id_coinapi,
                side=child.side,
                quantity=grown,
                price=price,
                child_status=event.status,
                at=event.at,
            )
            self.fills.append(fill)
            self.filled += grown
            self.filled_notional += grown * price
        child.status = event.status
        child.text = event.text or child.text
        self.children.keep(child)
        return fill

    def _apply_status(self, event: StatusChanged) -> None:
        if event.status is not self.status:
            self.status_history.append((event.status, event.at))
        self.status = event.status
        self.status_info = event.info
        if event.client_ref is not None:
            self.client_refs.append(event.client_ref)

    def _apply_parameters(self, event: ParametersChanged) -> None:
        self.params = event.params
        self.schedule = Schedule.plan(
            self.schedule.anchor, event.params.duration, event.params.interval
        )
        self.next_slice = event.next_slice
        self.parameter_updates.append((event.at, event.params))
        if event.client_ref is not None:
            self.client_refs.append(event.client_ref)


def _fill_price(child: ChildOrder, event: ChildReported, grown: Decimal) -> Decimal:
    """LastPx when the report covers this growth, else derived from AvgPx, else the limit."""
    if event.last_px and (event.last_qty is None or event.last_qty == grown):
        return event.last_px
    if event.avg_px:
        previous = (child.avg_px or ZERO) * child.cum_qty
        return (event.avg_px * event.cum_qty - previous) / grown
    return child.price


def check_amount_tradable(amount: Decimal, instruments: Sequence[Instrument]) -> None:
    """Refuse an amount no listed venue could trade to the last unit."""
    for instrument in instruments:
        if amount < instrument.min_size:
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"amount {amount:f} is below {instrument.exchange}'s minimum size "
                f"{instrument.min_size:f} for {instrument.symbol_id_exchange}",
            )
        if not instrument.is_size_multiple(amount):
            raise ProtocolError(
                "INVALID_PARAMETER",
                f"amount {amount:f} is not a multiple of {instrument.exchange}'s size increment "
                f"{instrument.size_increment:f} for {instrument.symbol_id_exchange}",
            )


_APPLY: dict[type, Callable[..., Fill | None]] = {
    OrderAccepted: lambda order, event: None,
    MarketSampled: SmartOrder._apply_sampled,
    ChildPlanned: SmartOrder._apply_planned,
    SliceSkipped: SmartOrder._apply_skipped,
    ChildReported: SmartOrder._apply_reported,
    StatusChanged: SmartOrder._apply_status,
    ParametersChanged: SmartOrder._apply_parameters,
}
