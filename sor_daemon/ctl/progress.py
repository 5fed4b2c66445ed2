"""The live display of followed orders: one rich progress bar per smart order, and the
``--json`` alternative that prints the raw feed for scripts instead."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.text import Text

from sor_daemon.ctl.tracking import OrderState

SHORT_ID = 8


class OrderColumn(ProgressColumn):
    """A column that renders one aspect of the OrderState its task carries."""

    def __init__(self, render: Callable[[OrderState], str], style: str = "") -> None:
        super().__init__()
        self._render = render
        self._style = style

    def render(self, task: Task) -> Text:
        """The text for this task's order."""
        return Text(self._render(task.fields["order"]), style=self._style)


def _filled(order: OrderState) -> str:
    amount = "?" if order.amount is None else f"{order.amount.normalize():f}"
    return f"{order.filled.normalize():f}/{amount}"


def _average(order: OrderState) -> str:
    price = order.average_price
    return "avg -" if price is None else f"avg {price:.2f}"


def _time_left(order: OrderState) -> str:
    left = order.time_left()
    if left is None:
        return "-"
    minutes, seconds = divmod(int(left.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d} left"


def _status(order: OrderState) -> str:
    return f"{order.status}: {order.status_info}" if order.status_info else order.status


class ProgressBoard:
    """Live progress bars on stderr, so stdout stays free for what scripts read."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            OrderColumn(_filled),
            OrderColumn(lambda order: f"{order.fills_count} fills"),
            OrderColumn(_average),
            OrderColumn(_time_left, style="cyan"),
            OrderColumn(_status, style="magenta"),
            console=console or Console(stderr=True),
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressBoard:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def show(self, raw: str | None, order: OrderState | None) -> None:
        """Draw ``order`` as it now stands; the raw message is for the JSON display only."""
        if order is None:
            return
        total = float(order.amount) if order.amount is not None else None
        completed = float(order.filled)
        task = self._tasks.get(order.id)
        if task is None:
            self._tasks[order.id] = self._progress.add_task(
                order.id[:SHORT_ID], total=total, completed=completed, order=order
            )
        else:
            self._progress.update(task, total=total, completed=completed, order=order)


class JsonLines:
    """Prints every feed message as received, one JSON object per line on stdout."""

    def __enter__(self) -> JsonLines:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        sys.stdout.flush()

    def show(self, raw: str | None, order: OrderState | None) -> None:
        """Print the raw message, if this call carries one."""
        if raw is not None:
            print(raw, flush=True)


Display = ProgressBoard | JsonLines
