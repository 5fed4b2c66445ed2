"""The simulated EMS's outbox: its answers leave from a thread of their own, in queued order.

quickfix writes a message to the socket on the thread that calls ``sendToTarget``, and blocks
there while the client's receive buffer is full. The simulator used to answer each request on
the thread that read it. So a client slow to read its reports stopped the simulator reading
requests too, and a client that writes orders from one thread and reads reports on another
(as the daemon does) then blocked writing into a socket nobody read. With both directions full,
loopback TCP even dropped segments and backed off for seconds: at 2,000 fills a second the
daemon's session timed out 35 to 95 s in, and every logon after that hung the same way.

Now the reader (and the market ticker) only work out the answers and queue them. One thread
sends them, in the order they were queued, and it alone waits on a slow client.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)

Item = TypeVar("Item")


class Outbox(Generic[Item]):
    """Queue items (never None) from any thread; one thread of its own hands each to ``send``,
    in order.

    The queue has no bound: the simulator is a test venue, and a client that reads slowly
    should see its reports late, not lose them or stop the simulator reading its orders.
    """

    def __init__(self, send: Callable[[Item], object], name: str) -> None:
        self._send = send
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._closing = False

    def open(self) -> None:
        """Start the sending thread."""
        self._thread.start()

    def put(self, item: Item) -> None:
        """Queue ``item`` to be sent after everything queued before it; never blocks."""
        self._queue.put(item)

    def close(self) -> None:
        """Stop the thread, dropping what is still queued; returns once the item being sent, if
        any, has been."""
        self._closing = True
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._closing:
                continue
            try:
                self._send(item)
            except Exception:
                log.exception("simulator answer not sent")
