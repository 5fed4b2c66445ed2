"""The event feed: every outbound message, encoded once, fanned out to every subscriber.

Each subscriber has its own bounded queue. Publishing never waits: a subscriber whose queue is
full is cut off (its queue is closed, and its reader learns why), so one slow client can neither
slow the engine nor grow its memory.
"""

from __future__ import annotations

import trio


class Subscription:
    """One subscriber's queue of encoded messages."""

    def __init__(self, feed: Feed, size: int) -> None:
        self._feed = feed
        self._send, self.messages = trio.open_memory_channel[str](size)
        self.dropped = False

    def offer(self, text: str) -> None:
        """Queue a message, or cut the subscriber off if its queue is full."""
        try:
            self._send.send_nowait(text)
        except trio.WouldBlock:
            self.dropped = True
            self.close()
        except trio.ClosedResourceError:
            self.close()

    def close(self) -> None:
        """Stop receiving; the reader sees the end of its queue."""
        self._feed._subscribers.discard(self)
        self._send.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Feed:
    """Fan-out of encoded messages to bounded per-subscriber queues."""

    def __init__(self, queue_size: int = 4096) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        """A new subscriber; use it as a context manager so it is always removed."""
        subscription = Subscription(self, self._queue_size)
        self._subscribers.add(subscription)
        return subscription

    def publish(self, text: str) -> None:
        """Offer one encoded message to every subscriber."""
        for subscription in list(self._subscribers):
            subscription.offer(text)
