"""Sending on a quickfix session from a thread of its own, so that no other thread waits on a
peer that does not read.

quickfix's threaded acceptors (``ThreadedSocketAcceptor``) write a message to the socket on the
thread that calls ``sendToTarget``, and block there, holding the session's lock, while the
peer's receive buffer is full. (The plain and SSL initiators queue what the socket cannot take
and write it from their own thread, so the EMS and market-data sessions never wait.)

- The simulator used to answer each request on the thread that read it. A client slow to read
  its reports stopped the simulator reading requests too; a client that writes orders from one
  thread and reads reports on another (as the daemon does) then blocked writing into a socket
  nobody read. With both directions full, loopback TCP even dropped segments and backed off for
  seconds: at 2,000 fills a second the daemon's session timed out 35 to 95 s in.
- The daemon's FIX order entry sent its clients' reports from the Trio thread: one client that
  kept its connection open and stopped reading would have stopped the whole daemon.

``Outbox`` takes items from any thread without waiting and hands them, in order, to a thread of
its own, which alone waits on a slow peer. ``SessionOutboxes`` is one per quickfix session.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import quickfix as fix
import structlog

log = structlog.get_logger(__name__)

Item = TypeVar("Item")


class Outbox(Generic[Item]):
    """Queue items (never None) from any thread while open; one thread of its own hands each to
    ``send``, in order.

    The queue has no bound: a peer that reads slowly should get its messages late, not lose
    them or hold up the thread that produced them.
    """

    def __init__(self, send: Callable[[Item], object], name: str) -> None:
        self._send = send
        self._name = name
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._lock = threading.Lock()
        self._open = False
        self._dropping = False

    def open(self) -> None:
        """Start the sending thread."""
        with self._lock:
            self._open = True
        self._thread.start()

    def put(self, item: Item) -> bool:
        """Queue ``item`` to be sent after everything queued before it; never blocks. False
        (and nothing queued) when the outbox is not open."""
        with self._lock:
            if self._open:
                self._queue.put(item)
            return self._open

    def close(self, *, send_queued: bool) -> None:
        """Take no more items and stop the thread once it has sent what is queued
        (``send_queued``) or dropped it; returns when the thread has ended."""
        with self._lock:
            if not self._open:
                return
            self._open = False
            self._dropping = not send_queued
            self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._dropping:
                continue
            try:
                self._send(item)
            except Exception:
                log.exception("message not sent", outbox=self._name)


class SessionOutboxes:
    """An ``Outbox`` for each of some quickfix sessions: ``send`` is a ``sendToTarget`` that
    returns at once, while the outboxes are open."""

    def __init__(self, session_ids: Iterable[fix.SessionID], name: str) -> None:
        self._outboxes = {
            session_id.toString(): Outbox[fix.Message](
                _sender(session_id), name=f"{name}-{session_id.getTargetCompID().getValue()}"
            )
            for session_id in session_ids
        }

    def send(self, message: fix.Message, session_id: fix.SessionID) -> bool:
        """Queue ``message`` for its session's thread; False when that session has no outbox
        or the outboxes are not open (the acceptor is not running)."""
        outbox = self._outboxes.get(session_id.toString())
        return outbox is not None and outbox.put(message)

    def open(self) -> None:
        """Start every session's thread."""
        for outbox in self._outboxes.values():
            outbox.open()

    def close(self) -> None:
        """Hand quickfix everything still queued, then stop the threads. Call it once the
        acceptor has stopped, before it is freed: then quickfix no longer writes to a socket,
        it only stores what it is given, for the client's next logon to ask for again."""
        for outbox in self._outboxes.values():
            outbox.close(send_queued=True)


def _sender(session_id: fix.SessionID) -> Callable[[fix.Message], None]:
    """``sendToTarget`` on ``session_id``, its failure logged."""
    name = session_id.toString()

    def send(message: fix.Message) -> None:
        try:
            taken = fix.Session.sendToTarget(message, session_id)
        except fix.SessionNotFound:
            taken = False
        if not taken:
            log.warning("FIX message neither stored nor sent", session=name)

    return send
