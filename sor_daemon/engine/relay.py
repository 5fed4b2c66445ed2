"""News handed on at once, on the Trio thread, to whoever listens.

The EMS session's reports reach the runners this way: the FIX bridge translates a report on the
Trio thread and the relay puts it straight into the runner's inbox, with no task in between.
Every task a report passes through is another turn of the scheduler to wait for, and under load
a turn is long: a thousand runners may be due in it. News that comes before anyone listens (a
logon while the engine is still reading its journal) is kept, in order, for the first listener.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

Listener = Callable[[T], None]


class Relay(Generic[T]):
    """Hands each piece of news to one listener, keeping it while there is none."""

    def __init__(self) -> None:
        self._backlog: list[T] = []
        self._listener: Listener[T] | None = None

    def publish(self, news: T) -> None:
        """Hand ``news`` to the listener now, or keep it for the next one (or, while the
        listener is still taking what was kept, behind that)."""
        if self._listener is None or self._backlog:
            self._backlog.append(news)
        else:
            self._listener(news)

    def listen(self, listener: Listener[T] | None) -> None:
        """Take the news from now on (first what was kept), or with None stop taking it: what
        comes next is kept again. A listener must not block; it runs on the publisher's turn."""
        self._listener = listener
        while self._backlog and self._listener is not None:
            self._listener(self._backlog.pop(0))
