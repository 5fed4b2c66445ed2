"""The event feed: every outbound message, encoded once, fanned out to every subscriber.

A message is published as one ``FeedMessage`` shared by every subscriber that wants it, so what
the API makes of it for the wire is made once too. Each subscriber has its own bounded queue.
Publishing never waits: a subscriber whose queue is full is cut off (its queue is closed, and its
reader learns why), so one slow client can neither slow the engine nor grow its memory. A message
may carry the origin of the order it is about; a subscriber narrowed to one origin (a trader's
API key) gets only those and the ones for everyone.

A subscriber's reader is told the moment a message is queued (``Subscription.listen``), on the
publisher's turn of the scheduler, so that it can write it out within that turn
(``api.message_writer``) rather than wake a task of its own to do it a turn or two later.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable


class FeedMessage:
    """One encoded message on its way to subscribers: its text, and a place for the bytes the
    API makes of it for the wire (``wire``), so that the first writer that needs them makes them
    and every other writer that sends the message the same way reuses them."""

    __slots__ = ("text", "wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.wire: bytes | None = None


def _nothing() -> None:
    """The listener of a subscription nobody listens to."""


class Subscription:
    """One subscriber's queue of encoded messages, taken in order by its reader."""

    def __init__(self, feed: Feed, size: int, origin: str | None) -> None:
        self._feed = feed
        self._size = size
        self.origin = origin
        self._queue: deque[FeedMessage] = deque()
        self._listener: Callable[[], None] = _nothing
        self.closed = False
        """No message is queued any more; the reader takes what is left, then stops."""
        self.dropped = False
        """It was cut off for falling ``size`` messages behind."""

    @property
    def queued(self) -> int:
        """How many messages wait for the reader."""
        return len(self._queue)

    def listen(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (it must not block) each time a message is queued, and once the
        subscription is closed."""
        self._listener = listener

    def offer(self, message: FeedMessage) -> None:
        """Queue a message, or cut the subscriber off if its queue is full."""
        if self.closed:
            return
        if len(self._queue) >= self._size:
            self.dropped = True
            self._feed.dropped += 1
            self.close()
            return
        self._queue.append(message)
        self._listener()

    def take(self, characters: float = math.inf) -> list[FeedMessage]:
        """The oldest queued messages, as many as hold about ``characters`` of text (one at
        least, if any is queued; all of them by default), taken off the queue."""
        taken: list[FeedMessage] = []
        held = 0
        queue = self._queue
        while queue and held < characters:
            message = queue.popleft()
            taken.append(message)
            held += len(message.text)
        return taken

    def close(self) -> None:
        """Stop receiving; the reader takes what is queued, then learns it has ended."""
        self._feed._subscribers.discard(self)
        if not self.closed:
            self.closed = True
            self._listener()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Feed:
    """Fan-out of encoded messages to bounded per-subscriber queues."""

    def __init__(self, queue_size: int = 4096) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self.dropped = 0
        """How many subscribers were cut off for being too slow, since the start."""

    @property
    def subscribers(self) -> int:
        """How many subscribers are connected now."""
        return len(self._subscribers)

    def subscribe(self, origin: str | None = None) -> Subscription:
        """A new subscriber, to every message or only to those about ``origin``'s orders; use
        it as a context manager so it is always removed."""
        subscription = Subscription(self, self._queue_size, origin)
        self._subscribers.add(subscription)
        return subscription

    def wants(self, origin: str | None) -> bool:
        """True when some subscriber would receive a message about ``origin``'s orders: when
        none would, the message need not be encoded at all."""
        return any(
            origin is None or subscription.origin in (None, origin)
            for subscription in self._subscribers
        )

    def publish(self, text: str, origin: str | None = None) -> None:
        """Offer one encoded message to every subscriber that wants it: ``origin`` is the origin
        of the order it is about (None: for everyone)."""
        message = FeedMessage(text)
        for subscription in list(self._subscribers):
            if origin is None or subscription.origin in (None, origin):
                subscription.offer(message)
