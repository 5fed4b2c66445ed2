"""Talking to a helper process over pipes from the Trio thread, one line a message.

The daemon hands work to processes of its own (the journal's writer, the EMS session) so that
nothing on a hot path waits for its GIL. The Trio thread writes to such a process without ever
waiting (``PipeWriter``: what one turn of the scheduler writes goes at the turn's end, in one
write; what the pipe cannot take yet waits in memory and goes once it can), and reads its
answers as it reads any socket (``LineReader``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable

import trio

from sor_daemon.turn_end import at_turn_end


class PipeWriter:
    """Writes to a non-blocking pipe at the end of the scheduler's turn (``turn_end``): what a
    turn wrote goes in one system call, and wakes the reader once. ``run`` writes later what
    the pipe could not take then. The writer owns the descriptor (``close``).

    ``on_broken`` is told, once, of the error that ended the pipe (the process is gone); what
    is written after that is dropped."""

    def __init__(self, fd: int, on_broken: Callable[[OSError], None]) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._on_broken = on_broken
        self._unsent: list[bytes] = []
        """What was written and is not in the pipe yet, in order."""
        self._write_due = False
        """A write is asked for at the end of this turn."""
        self._blocked = trio.Event()
        """Set when what is unsent must wait for the pipe."""
        self._broken = False

    def write(self, data: bytes) -> None:
        """Queue ``data`` after what is waiting, for the pipe at the end of this turn; never
        waits."""
        if self._broken:
            return
        self._unsent.append(data)
        if not self._write_due:
            self._write_due = True
            at_turn_end(self._write_now)

    def write_at_once(self, data: bytes) -> None:
        """Queue ``data`` after what is waiting and write what the pipe takes now, without
        waiting for the end of the turn; never waits."""
        if self._broken:
            return
        self._unsent.append(data)
        self._write_now()

    def _write_now(self) -> None:
        """Write as much as the pipe takes now; what it does not take waits for ``run``."""
        self._write_due = False
        if not self._unsent or self._broken:
            return
        data = self._unsent[0] if len(self._unsent) == 1 else b"".join(self._unsent)
        try:
            written = os.write(self._fd, data)
        except BlockingIOError:
            written = 0
        except OSError as error:
            self._broken = True
            self._unsent = []
            self._on_broken(error)
            return
        self._unsent = [data[written:]] if written < len(data) else []
        if self._unsent:
            self._blocked.set()

    async def run(self) -> None:
        """Write what the pipe could not take at once, as it can, until cancelled."""
        while True:
            await self._blocked.wait()
            self._blocked = trio.Event()
            await self.flush()

    async def flush(self) -> None:
        """Write now, and return once everything written is in the pipe (or the pipe broke)."""
        self._write_now()
        while self._unsent and not self._broken:
            await trio.lowlevel.wait_writable(self._fd)
            self._write_now()

    def close(self) -> None:
        """Close the pipe (after ``flush``): what is written from now on is dropped."""
        self._broken = True
        self._unsent = []
        os.close(self._fd)


class LineReader:
    """The lines a Trio stream carries, one at a time. Kept across calls, so reading can stop
    (cancelled) and go on later with nothing lost."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._partial = b""
        self._lines: deque[bytes] = deque()

    async def next(self) -> bytes | None:
        """The next whole line, or None once the stream has ended."""
        while not self._lines:
            if not await self._receive():
                return None
        return self._lines.popleft()

    async def batch(self) -> list[bytes] | None:
        """Every whole line that has arrived (waiting for one at least), or None once the
        stream has ended: a reader that acts on many lines in one turn."""
        while not self._lines:
            if not await self._receive():
                return None
        lines = list(self._lines)
        self._lines.clear()
        return lines

    async def _receive(self) -> bool:
        chunk = await self._stream.receive_some()
        if not chunk:
            return False
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        self._lines.extend(lines)
        return True
