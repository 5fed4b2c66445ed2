"""The facts a smart order's life is made of: what the journal stores and replays.

A smart order changes only by applying one of these events (``SmartOrder.apply``), so the state
rebuilt from the journal after a crash is, by construction, the state the daemon had.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from sor_daemon.domain.values import ChildStatus, OrderStatus
from sor_daemon.protocol.messages import Side, SmartOrderParameters


@attrs.frozen
class OrderAccepted:
    """A new smart order passed validation; its schedule starts at ``at``."""

    order_id: str
    algorithm: str
    exchanges: tuple[str, ...]
    params: SmartOrderParameters
    at: datetime
    origin: str = "api"


@attrs.frozen
class ParametersChanged:
    """Amount, duration or interval changed; the rest of the schedule is re-planned.

    ``client_ref`` is the client's reference for the change (a FIX amend's new ClOrdID), by
    which the client knows the order from then on; None for changes made without one (and in
    journals written before it existed)."""

    order_id: str
    params: SmartOrderParameters
    next_slice: int
    at: datetime
    client_ref: str | None = None


@attrs.frozen
class ChildPlanned:
    """A child order about to be sent: journaled before it leaves, so it is never forgotten."""

    order_id: str
    child_id: str
    slice_index: int
    exchange: str
    symbol_id_coinapi: str
    symbol_id_exchange: str
    side: Side
    quantity: Decimal
    price: Decimal
    at: datetime


@attrs.frozen
class MarketSampled:
    """What the market did in the interval before a slice, as the slice was planned.

    The volume and notional the order's venues traded between ``start`` and ``end`` (None when
    no source could tell), and the mid across those venues at ``at``. VWAP sizes its slice from
    the volume; execution quality is computed from every sample of the order's life. Journaled
    with the slice it informs, so a replay sees the very numbers the decision was made on.
    """

    order_id: str
    slice_index: int
    start: datetime
    end: datetime
    volume: Decimal | None
    notional: Decimal | None
    mid: Decimal | None
    at: datetime


@attrs.frozen
class SliceSkipped:
    """A slice came due but traded nothing (too small for the venue, or no venue to trade)."""

    order_id: str
    slice_index: int
    reason: str
    at: datetime


@attrs.frozen
class ChildReported:
    """The venue's news about a child: its cumulative quantity and status grew."""

    order_id: str
    child_id: str
    status: ChildStatus
    cum_qty: Decimal
    avg_px: Decimal | None
    last_qty: Decimal | None
    last_px: Decimal | None
    text: str | None
    at: datetime


@attrs.frozen
class StatusChanged:
    """The smart order's status or its status info changed.

    ``client_ref`` is set on a cancel that came with the client's reference (a FIX cancel's
    ClOrdID), as on ``ParametersChanged``."""

    order_id: str
    status: OrderStatus
    info: str | None
    at: datetime
    client_ref: str | None = None


Event = (
    OrderAccepted
    | ParametersChanged
    | MarketSampled
    | ChildPlanned
    | SliceSkipped
    | ChildReported
    | StatusChanged
)
EVENT_TYPES: tuple[type, ...] = (
    OrderAccepted,
    ParametersChanged,
    MarketSampled,
    ChildPlanned,
    SliceSkipped,
    ChildReported,
    StatusChanged,
)
