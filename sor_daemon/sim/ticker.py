"""A small thread that steps the simulated market on the wall clock.

The market also steps lazily whenever a request arrives; the ticker makes resting orders fill
and GTD orders expire when no other traffic comes. It lives in a thread, not a Trio task,
because what it calls blocks on the same lock and socket writes as quickfix's own threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Ticker:
    """Calls ``tick`` every ``interval`` seconds from its own thread until ``stop``."""

    def __init__(self, tick: Callable[[], None], interval: float) -> None:
        self._tick = tick
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait for it (at most one tick's work)."""
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self._tick()
