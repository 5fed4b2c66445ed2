"""A smart order as sorctl follows it: built from GET /requests or from the add command, then
moved along by the feed's StatusChange and TradeFill messages; and the exit codes its end maps to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sor_daemon.protocol.periods import Period
from sor_daemon.protocol.times import parse_history, parse_iso

EXIT_OK = 0
EXIT_DAEMON_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
FINAL_EXIT_CODES = {"Completed": EXIT_OK, "Cancelled": 3, "Failed": 4, "Expired": 5}
RUNNING = "Running"

FillKey = tuple[datetime, Decimal, Decimal]
"""A fill's time, amount and price: the same fill read from REST and from the feed matches."""


@dataclass
class OrderState:
    """What is known of one smart order: its size, schedule end, status and every fill."""

    id: str
    amount: Decimal | None = None
    ends_at: datetime | None = None
    status: str = RUNNING
    status_info: str | None = None
    fills: dict[FillKey, Decimal] = field(default_factory=dict)
    reported_filled: Decimal | None = None

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> OrderState:
        """The state GET /requests reports for one order."""
        state = cls(
            id=view["id"],
            amount=Decimal(str(view["amount"])),
            status=view["status"],
            status_info=view.get("statusInfo"),
        )
        started = view.get("statusHistory", {}).get(RUNNING)
        if started:
            duration = Period.parse(view["duration"]).timedelta
            state.ends_at = parse_history(started) + duration
        for fill in view.get("fills", []):
            state._add_fill(fill["timeStamp"], fill["amountFilled"], fill["price"])
        return state

    @classmethod
    def submitted(cls, order_id: str, amount: Decimal, duration: Period) -> OrderState:
        """The state of an order this process has just submitted: nothing filled yet."""
        return cls(id=order_id, amount=amount, ends_at=datetime.now(UTC) + duration.timedelta)

    def apply(self, message: dict[str, Any]) -> None:
        """Move along with one feed message about this order."""
        data = message.get("Data") or {}
        if message.get("Type") == "StatusChange":
            self.status = data["Status"]
            self.status_info = data.get("StatusInfo", self.status_info)
            self.reported_filled = Decimal(str(data["TotalFilled"]))
            self.fills.clear()
            for fill in data.get("Fills", []):
                self._add_fill(fill["TimeStamp"], fill["AmountFilled"], fill["Price"])
        elif message.get("Type") == "TradeFill":
            self._add_fill(data["TimeStamp"], data["AmountFilled"], data["Price"])

    @property
    def final(self) -> bool:
        """True once the order has reached a status it does not leave."""
        return self.status != RUNNING

    @property
    def exit_code(self) -> int:
        """sorctl's exit status for an order that ended this way."""
        return FINAL_EXIT_CODES.get(self.status, EXIT_DAEMON_ERROR)

    @property
    def filled(self) -> Decimal:
        """How much is filled: the daemon's total when it gave one after the last fill."""
        own = sum(self.fills.values(), Decimal(0))
        return max(own, self.reported_filled or Decimal(0))

    @property
    def fills_count(self) -> int:
        """How many fills there have been."""
        return len(self.fills)

    @property
    def average_price(self) -> Decimal | None:
        """The amount-weighted average fill price, None before the first fill."""
        amount = sum(self.fills.values(), Decimal(0))
        if not amount:
            return None
        return sum((key[2] * size for key, size in self.fills.items()), Decimal(0)) / amount

    def time_left(self) -> timedelta | None:
        """Until the schedule ends, never negative; None when not known or already over."""
        if self.final or self.ends_at is None:
            return None
        return max(self.ends_at - datetime.now(UTC), timedelta(0))

    def summary(self) -> str:
        """One sentence on where the order stands, for the end of ``--wait`` and ``watch``."""
        amount = f" of {self.amount.normalize():f}" if self.amount is not None else ""
        price = self.average_price
        at = f" at {price.quantize(Decimal('0.01'))} on average" if price is not None else ""
        info = f" ({self.status_info})" if self.status_info else ""
        return (
            f"{self.id} {self.status}{info}: {self.filled.normalize():f}{amount} filled "
            f"in {self.fills_count} fills{at}"
        )

    def _add_fill(self, stamp: str, amount: object, price: object) -> None:
        size = Decimal(str(amount))
        self.fills[(parse_iso(stamp), size, Decimal(str(price)))] = size
