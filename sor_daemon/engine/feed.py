"""The event feed: every outbound message, encoded once, fanned out to every subscriber.

A message is published as one ``FeedMessage`` shared by every subscriber that wants it, so what
the API makes of it for the wire is made once too. Each subscriber has its own bounded queue.
Publishing never waits: a subscriber whose queue is full is cut off (its queue is closed, and its
reader learns why), so one slow client can neither slow the engine nor grow its memory. A message
may carry the origin of the order it is about; a subscriber narrowed to one origin (a trader's
API key) gets only those and the ones for everyone.

Subscribers that want the same messages (every one, or one origin's) form a group, and the
messages published to a group one after another, until one of its subscribers takes, go to every
queue of the group as one shared ``Batch``: publishing costs each subscriber one queue entry a
batch rather than one a message, and a batch taken whole by many subscribers is framed for the
wire once (``Subscription.take_framed``). With a hundred subscribers at 2,000 events a second,
queueing and framing each message for each of them was a sixth of the Trio thread's time.

A subscriber's reader is told the moment a batch is queued (``Subscription.listen``), on the
publisher's turn of the scheduler, so that it can write it out within that turn
(``api.message_writer``) rather than wake a task of its own to do it a turn or two later.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence

Framing = Callable[[Sequence["FeedMessage"]], bytes]
"""How messages are made into bytes for the wire; the same function makes the same bytes."""


class FeedMessage:
    """One encoded message on its way to subscribers: its text, and a place for the bytes the
    API makes of it for the wire (``wire``), so that the first writer that needs them makes them
    and every other writer that sends the message the same way reuses them."""

    __slots__ = ("text", "wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.wire: bytes | None = None


class Batch:
    """Messages queued as one entry for every subscriber of a group (or one message for one
    subscriber alone).

    It is open while none of its subscribers has taken from it: a message published to the
    group meanwhile is added to it, and so reaches every queue at once. Taking from it closes
    it; the group's next message starts a new batch. Messages are only ever added at its end,
    so a part of it once framed stays framed the same."""

    __slots__ = ("_framed", "characters", "messages", "open")

    def __init__(self, message: FeedMessage) -> None:
        self.messages = [message]
        self.characters = len(message.text)
        self.open = True
        self._framed: tuple[Framing, int, int, bytes] | None = None

    def add(self, message: FeedMessage) -> None:
        """Add a message at the end (the batch must be open)."""
        self.messages.append(message)
        self.characters += len(message.text)

    def framed(self, start: int, end: int, framing: Framing) -> bytes:
        """Messages ``start`` to ``end`` framed by ``framing``; made once for the subscribers
        that take the same part the same way one after another."""
        framed = self._framed
        if framed is not None and framed[:3] == (framing, start, end):
            return framed[3]
        data = framing(self.messages[start:end])
        self._framed = (framing, start, end, data)
        return data


def _nothing() -> None:
    """The listener of a subscription nobody listens to."""


class Subscription:
    """One subscriber's queue of encoded messages, taken in order by its reader."""

    def __init__(self, group: _Group, size: int, origin: str | None) -> None:
        self._group = group
        self._size = size
        self.origin = origin
        self._queue: deque[Batch] = deque()
        self._taken = 0
        """How many messages of the oldest batch in the queue were taken already."""
        self._settled = 0
        """How many messages the batches before the newest one hold: only the newest grows."""
        self._listener: Callable[[], None] = _nothing
        self.closed = False
        """No message is queued any more; the reader takes what is left, then stops."""
        self.dropped = False
        """It was cut off for falling ``size`` messages behind."""

    @property
    def queued(self) -> int:
        """How many messages wait for the reader."""
        queue = self._queue
        return self._settled + len(queue[-1].messages) - self._taken if queue else 0

    def listen(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (it must not block) each time a batch of messages is queued, and
        once the subscription is closed."""
        self._listener = listener

    def offer(self, message: FeedMessage) -> None:
        """Queue a message for this subscriber alone, or cut it off if its queue is full."""
        if self._queue:
            self._queue[-1].open = False
        self.receive(Batch(message))

    def receive(self, batch: Batch) -> bool:
        """Queue a batch; False, and the subscriber cut off, if its queue is full (or closed)."""
        if self.closed:
            return False
        if self.queued >= self._size:
            self.dropped = True
            self._group.feed.dropped += 1
            self.close()
            return False
        if self._queue:
            self._settled += len(self._queue[-1].messages)
        self._queue.append(batch)
        self._listener()
        return True

    def take(self, characters: float = math.inf) -> list[FeedMessage]:
        """The oldest queued messages, as many as hold about ``characters`` of text (one at
        least, if any is queued; all of them by default), taken off the queue."""
        taken: list[FeedMessage] = []
        for batch, start, end in self._take_parts(characters):
            taken += batch.messages[start:end]
        return taken

    def take_framed(self, characters: float, framing: Framing) -> bytes:
        """What ``take`` would, framed by ``framing``: a part of a batch taken the same way by
        several subscribers in a row is framed once for all of them."""
        parts = self._take_parts(characters)
        if len(parts) == 1:
            return parts[0][0].framed(*parts[0][1:], framing)
        return b"".join([batch.framed(start, end, framing) for batch, start, end in parts])

    def _take_parts(self, characters: float) -> list[tuple[Batch, int, int]]:
        """The oldest queued messages, as ``take`` picks them, as parts of batches (the batch,
        the first message and the one past the last), taken off the queue."""
        parts: list[tuple[Batch, int, int]] = []
        held = 0
        queue = self._queue
        while queue and held < characters:
            batch = queue[0]
            batch.open = False
            start, end = self._taken, len(batch.messages)
            if start == 0 and held + batch.characters <= characters:
                held += batch.characters
            else:
                end = start
                while end < len(batch.messages) and held < characters:
                    held += len(batch.messages[end].text)
                    end += 1
            parts.append((batch, start, end))
            if end == len(batch.messages):
                queue.popleft()
                self._taken = 0
                if queue:
                    self._settled -= end
            else:
                self._taken = end
        return parts

    def close(self) -> None:
        """Stop receiving; the reader takes what is queued, then learns it has ended."""
        self._group.leave(self)
        if not self.closed:
            self.closed = True
            self._listener()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Group:
    """The subscribers that want the same messages (an origin's, or every one), and the batch
    they were offered last."""

    def __init__(self, feed: Feed, origin: str | None) -> None:
        self.feed = feed
        self.origin = origin
        self.subscriptions: set[Subscription] = set()
        self._batch: Batch | None = None
        self._most_held = 0
        """The most messages any subscriber had queued before the batch was offered."""

    def join(self, subscription: Subscription) -> None:
        """A new subscriber: the messages published from now on reach it too."""
        self.subscriptions.add(subscription)
        self._close_batch()

    def leave(self, subscription: Subscription) -> None:
        """A subscriber is gone; the group with it, once it was the last."""
        self.subscriptions.discard(subscription)
        if not self.subscriptions:
            self.feed._forget(self)

    def publish(self, message: FeedMessage) -> None:
        """Add a message to the open batch, every queue already holding it, unless that would
        fill a queue; or else offer it to every subscriber as a new batch."""
        batch, size = self._batch, self.feed.queue_size
        if batch is not None and batch.open and self._most_held + len(batch.messages) < size:
            batch.add(message)
            return
        self._close_batch()
        self._batch = batch = Batch(message)
        most_held = 0
        for subscription in list(self.subscriptions):
            held = subscription.queued
            if subscription.receive(batch):
                most_held = max(most_held, held)
        self._most_held = most_held

    def _close_batch(self) -> None:
        """Add nothing more to the batch offered last: the next message starts a new one."""
        if self._batch is not None:
            self._batch.open = False
            self._batch = None


class Feed:
    """Fan-out of encoded messages to bounded per-subscriber queues."""

    def __init__(self, queue_size: int = 4096) -> None:
        self.queue_size = queue_size
        self._groups: dict[str | None, _Group] = {}
        self.dropped = 0
        """How many subscribers were cut off for being too slow, since the start."""

    @property
    def subscribers(self) -> int:
        """How many subscribers are connected now."""
        return sum(len(group.subscriptions) for group in self._groups.values())

    def subscribe(self, origin: str | None = None) -> Subscription:
        """A new subscriber, to every message or only to those about ``origin``'s orders; use
        it as a context manager so it is always removed."""
        group = self._groups.get(origin)
        if group is None:
            group = self._groups[origin] = _Group(self, origin)
        subscription = Subscription(group, self.queue_size, origin)
        group.join(subscription)
        return subscription

    def _forget(self, group: _Group) -> None:
        """``group`` has no subscriber left: a new subscriber of its origin starts a new one.
        (A subscriber closed twice leaves its group twice; by then the origin may have another.)
        """
        if self._groups.get(group.origin) is group:
            del self._groups[group.origin]

    def wants(self, origin: str | None) -> bool:
        """True when some subscriber would receive a message about ``origin``'s orders: when
        none would, the message need not be encoded at all."""
        return any(_reaches(group, origin) for group in self._groups.values())

    def publish(self, text: str, origin: str | None = None) -> None:
        """Offer one encoded message to every subscriber that wants it: ``origin`` is the origin
        of the order it is about (None: for everyone)."""
        message = FeedMessage(text)
        for group in list(self._groups.values()):
            if _reaches(group, origin):
                group.publish(message)


def _reaches(group: _Group, origin: str | None) -> bool:
    """True when a message about ``origin``'s orders (None: for everyone) is for ``group``."""
    return origin is None or group.origin in (None, origin)
