"""Work put off to the end of the Trio scheduler's current turn.

A turn runs every task that is ready, one step each, and then Trio waits for I/O. What the
daemon writes to its helper processes (the journal's writer, the EMS session) during a turn is
written once, at its end: one system call and one wake-up of the reader for all of it. The
journal hands its writer everything the turn appended as one commit, where the first append
used to go alone and those after it waited a commit more. Alternated with the commit before on
the 500 fills a second stream, the fill to screen p99 went from 11.4 and 14.3 ms to 9.4 and
11.0 ms.

``at_turn_end`` runs a call just before Trio next waits for I/O (an instrument's
``before_io_wait``), after every task that was ready when it was asked has had its step.
A call put off as ``urgent`` (the feed's writes to its subscribers) is made sooner when a step
asks (``urgent_calls_now``): the journal's step that learns a commit does, after the commit's
callbacks, so that a fill announced there reaches the screen without waiting for every other
task of the turn (at 500 fills a second, from learning the commit to writing the fill: p50
1.04 and 0.71 → 0.64 and 0.45 ms in two alternated pairs). Writes to helper processes still
wait for the turn's end, so that a turn's children still go to the EMS session in one write.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import structlog
import trio

log = structlog.get_logger(__name__)

DEADLINE_JITTER_SECONDS = 1e-4
"""How much closer the next deadline must come to count as moved: ``_next_deadline`` adds
two readings of the clock, so the same deadline read twice can differ by a few µs. A
deadline moved by less is kept at most this late."""


class _TurnEnd(trio.abc.Instrument):
    """The calls put off to the end of this turn, made before Trio waits for I/O; the urgent
    ones sooner when a step asks."""

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self.calls: deque[Callable[[], None]] = deque()
        self.urgent: deque[Callable[[], None]] = deque()
        self._token = token

    def before_io_wait(self, timeout: float) -> None:
        """Make every call put off, those asked for meanwhile too. Trio decided how long to
        wait for I/O before this hook, so when a call made a task ready or moved a deadline
        closer, Trio is woken at once rather than sleeping on. Only then: waking it after
        every turn that wrote to a pipe cost a write to its wake-up socket, an extra pass of
        the scheduler and a read back, for nothing in most turns (writing a line to a helper
        process makes no task of ours ready)."""
        if not self.calls and not self.urgent:
            return
        # Trio runs again at once when it was not about to sleep: nothing to check then.
        deadline = _next_deadline() if timeout > 0 else None
        while self.urgent or self.calls:
            _make(self.urgent)
            _make(self.calls)
        if deadline is not None and (
            trio.lowlevel.current_statistics().tasks_runnable
            or _next_deadline() < deadline - DEADLINE_JITTER_SECONDS
        ):
            self._token.run_sync_soon(_nothing)


def _make(calls: deque[Callable[[], None]]) -> None:
    """Make every call of ``calls``, and those they add to it, in order; one that raises is
    logged and the others are still made."""
    while calls:
        call = calls.popleft()
        try:
            call()
        except Exception:
            log.exception("a call put off to the end of a turn failed")


def _next_deadline() -> float:
    """Trio's time of its next deadline (inf when there is none)."""
    return trio.current_time() + trio.lowlevel.current_statistics().seconds_to_next_deadline


def _nothing() -> None:
    """What ``run_sync_soon`` is handed only to wake the scheduler."""


_TURN_END = trio.lowlevel.RunVar[_TurnEnd]("turn_end")


def at_turn_end(call: Callable[[], None], *, urgent: bool = False) -> None:
    """Call ``call`` once the tasks ready now have had their step, before Trio next waits for
    I/O (on the Trio thread), or, if ``urgent``, when a step asks for the urgent calls
    (``urgent_calls_now``) if that is sooner. Calls are made in the order they were asked for,
    the urgent ones first; one that raises is logged and the others are still made."""
    try:
        turn_end = _TURN_END.get()
    except LookupError:
        turn_end = _TurnEnd(trio.lowlevel.current_trio_token())
        trio.lowlevel.add_instrument(turn_end)
        _TURN_END.set(turn_end)
    (turn_end.urgent if urgent else turn_end.calls).append(call)


def urgent_calls_now() -> None:
    """Make the urgent calls put off so far now, rather than after the turn's other tasks: what
    this step announced goes out at once. The other calls wait for the turn's end, where
    everything the turn wrote to a helper process goes in one write."""
    try:
        turn_end = _TURN_END.get()
    except LookupError:
        return
    _make(turn_end.urgent)
