"""SharedHistory against the simulator's OHLCV over HTTP: askers of the same rows at about the same
time share one request and get what they would have got alone; a failure is not kept, and the
askers of a request whose asker was cancelled ask again."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import trio
import trio.testing

from sor_daemon.coinapi.ohlcv import OhlcvClient, OhlcvRow
from sor_daemon.coinapi.rest import CoinApiRest, RetryPolicy
from sor_daemon.market.history import history_traded
from sor_daemon.market.shared_history import SharedHistory
from sor_daemon.sim.service import serve_simulator
from tests.support.markets import loopback_simulator

SYMBOLS = ["KRAKEN_SPOT_BTC_USD", "COINBASE_SPOT_BTC_USD"]
UNKNOWN = "NOWHERE_SPOT_BTC_USD"
SIMULATOR_TRADED_SECONDS = 3.0


class CountingHistory:
    """The simulator's OHLCV over HTTP, keeping a list of the requests that left; each waits
    for ``gate`` first, when there is one."""

    def __init__(self, client: OhlcvClient) -> None:
        self.client = client
        self.asked: list[tuple[str, datetime, datetime]] = []
        self.gate: trio.Event | None = None

    async def history(
        self, symbol_id: str, period_id: str, start: datetime, end: datetime, limit: int = 100
    ) -> list[OhlcvRow]:
        self.asked.append((symbol_id, start, end))
        if self.gate is not None:
            await self.gate.wait()
        return await self.client.history(symbol_id, period_id, start, end, limit)


@pytest.fixture
async def ohlcv(tmp_path: Path) -> AsyncIterator[OhlcvClient]:
    async with trio.open_nursery() as nursery:
        simulator = await nursery.start(serve_simulator, loopback_simulator(tmp_path))
        rest = CoinApiRest(simulator.http_url, retry=RetryPolicy(attempts=1))
        yield OhlcvClient(rest)
        nursery.cancel_scope.cancel()


def whole_second_ago(seconds: int) -> datetime:
    """The start of the second ``seconds`` before the current one (UTC)."""
    return datetime.fromtimestamp(math.floor(datetime.now(UTC).timestamp()) - seconds, UTC)


async def test_stretches_ending_in_the_same_second_share_one_request_per_symbol(
    ohlcv: OhlcvClient,
) -> None:
    await trio.sleep(SIMULATOR_TRADED_SECONDS)  # the simulator's tape has traded since it started
    base = whole_second_ago(0)
    # Forty stretches: starting anywhere in one second, ending anywhere in a later one.
    stretches = [
        (base - timedelta(seconds=2 - i * 0.02), base - timedelta(seconds=0.9 - i * 0.02))
        for i in range(40)
    ]
    counting = CountingHistory(ohlcv)
    shared = SharedHistory(counting, keep_seconds=3600)
    results: dict[int, tuple[Decimal, Decimal] | None] = {}

    async def ask(index: int) -> None:
        results[index] = await history_traded(shared, SYMBOLS, *stretches[index])

    async with trio.open_nursery() as nursery:
        for index in range(len(stretches)):
            nursery.start_soon(ask, index)

    assert sorted(symbol for symbol, _, _ in counting.asked) == sorted(SYMBOLS)
    for index, (start, end) in enumerate(stretches):
        alone = await history_traded(ohlcv, SYMBOLS, start, end)
        assert alone is not None and alone[0] > 0
        assert results[index] == alone
    # Asked again while the answer is kept: no request leaves.
    assert await history_traded(shared, SYMBOLS, *stretches[0]) == results[0]
    assert len(counting.asked) == len(SYMBOLS)


async def test_a_failed_request_fails_its_askers_and_is_asked_again(ohlcv: OhlcvClient) -> None:
    counting = CountingHistory(ohlcv)
    shared = SharedHistory(counting, keep_seconds=3600)
    start = whole_second_ago(3)
    answers: list[tuple[Decimal, Decimal] | None] = []

    async def ask() -> None:
        answers.append(await history_traded(shared, [UNKNOWN], start, start + timedelta(seconds=2)))

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(ask)
    assert answers == [None] * 5
    assert len(counting.asked) == 1

    await ask()
    assert answers[-1] is None
    assert len(counting.asked) == 2


async def test_the_askers_of_a_cancelled_request_ask_again(ohlcv: OhlcvClient) -> None:
    counting = CountingHistory(ohlcv)
    counting.gate = trio.Event()
    shared = SharedHistory(counting, keep_seconds=3600)
    start, end = whole_second_ago(3), whole_second_ago(1)
    first_asker = trio.CancelScope()
    waiter_got: list[list[OhlcvRow]] = []

    async def ask_first() -> None:
        with first_asker:
            await shared.history(SYMBOLS[0], "1SEC", start, end)

    async def wait_for_rows() -> None:
        waiter_got.append(await shared.history(SYMBOLS[0], "1SEC", start, end))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ask_first)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(wait_for_rows)
        await trio.testing.wait_all_tasks_blocked()
        assert len(counting.asked) == 1  # the waiter waits on the first asker's request
        first_asker.cancel()
        await trio.testing.wait_all_tasks_blocked()
        counting.gate.set()
    assert len(counting.asked) == 2
    assert waiter_got == [await ohlcv.history(SYMBOLS[0], "1SEC", start, end)]


async def test_an_answer_older_than_keep_seconds_is_asked_again(ohlcv: OhlcvClient) -> None:
    counting = CountingHistory(ohlcv)
    shared = SharedHistory(counting, keep_seconds=0)
    start, end = whole_second_ago(3), whole_second_ago(1)

    first = await shared.history(SYMBOLS[0], "1SEC", start, end)
    second = await shared.history(SYMBOLS[0], "1SEC", start, end)

    assert first == second
    assert len(counting.asked) == 2
