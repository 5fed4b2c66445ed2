"""OHLCV history asked once for every order that needs the same rows at about the same time.

A slice whose stretch the live tape did not see whole asks the OHLCV history of each of its
symbols. Orders accepted together need the same stretches together: when a thousand TWAPs were
submitted in the daemon's first seconds (the schedule benchmark), their slices asked the
simulator's REST API nearly a thousand times in two seconds, for the same few rows. The Trio
thread spent 18% of that time in HTTP, each slice waited on its request, and slice 1 left
hundreds of milliseconds late. A desk restarting the daemon with its orders running would ask
CoinAPI as often, against its request quota.

``history_traded`` asks in whole periods, so stretches that end in the same period ask the very
same question. ``SharedHistory`` sends one request for each question; whoever asks it while that
request is under way, or within ``keep_seconds`` of its answer, gets the same rows. A request
that fails fails every asker waiting on it and is not kept; one whose asker is cancelled is
asked again by the next.
"""

from __future__ import annotations

from datetime import datetime

import trio

from sor_daemon.coinapi.ohlcv import OhlcvRow
from sor_daemon.coinapi.rest import UpstreamError
from sor_daemon.market.history import OhlcvHistory

DEFAULT_KEEP_SECONDS = 1.0
"""Long enough for the orders of one busy second to share an answer, short enough that rows
CoinAPI's history had not caught up on yet are asked for again soon."""

Question = tuple[str, str, datetime, datetime, int]


class _Request:
    """One request under way or answered: its rows or its error, once ``done``."""

    def __init__(self) -> None:
        self.done = trio.Event()
        self.rows: list[OhlcvRow] | None = None
        self.error: UpstreamError | None = None
        self.answered_at = float("inf")


class SharedHistory:
    """An ``OhlcvHistory`` that asks ``source`` once for many askers of the same rows."""

    def __init__(self, source: OhlcvHistory, keep_seconds: float = DEFAULT_KEEP_SECONDS) -> None:
        self._source = source
        self._keep = keep_seconds
        self._requests: dict[Question, _Request] = {}

    async def history(
        self, symbol_id: str, period_id: str, start: datetime, end: datetime, limit: int = 100
    ) -> list[OhlcvRow]:
        """The rows ``source.history`` gives for these arguments, shared (see the module)."""
        question = (symbol_id, period_id, start, end, limit)
        while True:
            request = self._requests.get(question)
            if request is None or self._expired(request):
                return await self._ask(question)
            await request.done.wait()
            if request.error is not None:
                raise request.error
            if request.rows is not None:
                return request.rows
            # Its asker was cancelled before the answer: ask again.

    async def _ask(self, question: Question) -> list[OhlcvRow]:
        self._forget_expired()
        request = self._requests[question] = _Request()
        try:
            request.rows = await self._source.history(*question)
        except UpstreamError as error:
            request.error = error
            raise
        finally:
            if request.rows is None:
                self._requests.pop(question, None)
            request.answered_at = trio.current_time()
            request.done.set()
        return request.rows

    def _expired(self, request: _Request) -> bool:
        return trio.current_time() - request.answered_at > self._keep

    def _forget_expired(self) -> None:
        for question in [q for q, request in self._requests.items() if self._expired(request)]:
            del self._requests[question]
