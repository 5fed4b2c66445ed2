"""The trade tape: every trade printed on every simulated venue, for market data and OHLCV.

Two kinds of trade print. Background trades stand for the rest of the market: every market
step, each instrument prints a Poisson number of them whose rate is the underlying's base rate
times the venue's volume share times the volume profile at that moment; sizes scatter
log-normally around the underlying's typical trade size, and each is a BUY that lifts the best
ask or a SELL that hits the best bid of the book the step generated. They take no liquidity from
the simulated book, which stands for the market after them. The simulated EMS's own fills print
too, at their price with the order's side as aggressor, so the market's volume includes the
daemon's own trading.

The tape keeps one-second buckets per symbol (open, high, low, close, volume, count, first and
last trade time) for ``retention``, which OHLCV aggregates, and the trades printed since the
market-data feed last took them. On start it makes up ``backfill`` of background history before
the start, at the start's books, so OHLCV has data at once.

A step's background trades (how many, their sides, sizes and places in the step) depend only on
the seed, the symbol, the step and the profile's weight, so a seed replays the same tape. Times
never go back per symbol: a trade stamped before the symbol's last print is stamped at that
print's time (the EMS's threads take their time before they queue for the exchange's lock).

Not thread-safe: the exchange holds its lock around every call.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.sim.market import Book
from sor_daemon.sim.orders import Side
from sor_daemon.sim.profile import VolumeProfile
from sor_daemon.sim.settings import MarketParameters

PENDING_LIMIT = 10_000
"""Trades kept per symbol for the feed; a feed that stops taking them loses the oldest."""

SIZE_SIGMA = 0.8
"""The spread of background trade sizes: the standard deviation of their logarithm."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = 1_000_000
_POISSON_EXACT_BELOW = 30.0


@attrs.frozen
class Trade:
    """One trade on one venue; ``aggressor`` is the side that took liquidity."""

    symbol_id: str
    trade_id: str
    time: datetime
    price: Decimal
    size: Decimal
    aggressor: Side


@attrs.frozen
class Bucket:
    """One second of one symbol's trades; ``second`` counts seconds from the epoch."""

    second: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    count: int
    first_time: datetime
    last_time: datetime

    @classmethod
    def of(cls, trade: Trade) -> Bucket:
        """The bucket of a second whose first trade is ``trade``."""
        return cls(
            second=epoch_second(trade.time),
            open=trade.price,
            high=trade.price,
            low=trade.price,
            close=trade.price,
            volume=trade.size,
            count=1,
            first_time=trade.time,
            last_time=trade.time,
        )

    def add(self, trade: Trade) -> Bucket:
        """The bucket with one more trade, printed at or after every trade in it."""
        return attrs.evolve(
            self,
            high=max(self.high, trade.price),
            low=min(self.low, trade.price),
            close=trade.price,
            volume=self.volume + trade.size,
            count=self.count + 1,
            last_time=trade.time,
        )


def epoch_second(moment: datetime) -> int:
    """The whole seconds from the epoch to ``moment`` (the second it falls in)."""
    return _micros(moment) // _MICROS


class Tape:
    """The trades of every instrument: one-second buckets, the feed's backlog, the last trade."""

    def __init__(
        self,
        instruments: InstrumentTable,
        parameters: MarketParameters,
        *,
        seed: int,
        run_id: str,
    ) -> None:
        tape = parameters.tape
        self._seed = seed
        self._run_id = run_id
        self._profile = VolumeProfile(tape.profile, tape.profile_period)
        self._backfill = tape.backfill
        self._retention_seconds = int(tape.retention.total_seconds())
        self._step_seconds = parameters.step.total_seconds()
        self._flows = {i.symbol_id_coinapi: _Flow.of(i, parameters) for i in instruments}
        self._buckets: dict[str, list[Bucket]] = {symbol: [] for symbol in self._flows}
        self._pending: dict[str, deque[Trade]] = {
            symbol: deque(maxlen=PENDING_LIMIT) for symbol in self._flows
        }
        self._last: dict[str, Trade] = {}
        self._numbers = dict.fromkeys(self._flows, 0)

    # -- printing --------------------------------------------------------------------------------

    def backfill(self, books: Mapping[str, Book], start: datetime) -> None:
        """Make up ``backfill`` of background trades before ``start``, at ``books``' prices.

        Only buckets (and each symbol's last trade) are kept: the history predates every feed.
        """
        end_us = _micros(start)
        begin_us = end_us - _span_micros(self._backfill)
        for symbol_id, flow in self._flows.items():
            book = books[symbol_id]
            if not book.bids or not book.asks:
                continue
            rng = random.Random(f"{self._seed}:{symbol_id}:backfill")
            buckets = self._buckets[symbol_id]
            last: tuple[int, bool, int] | None = None
            for second in range(begin_us // _MICROS, -(-end_us // _MICROS)):
                low_us = max(second * _MICROS, begin_us)
                high_us = min((second + 1) * _MICROS, end_us)
                middle = _EPOCH + timedelta(microseconds=(low_us + high_us) // 2)
                span = (high_us - low_us) / _MICROS
                draws = flow.draw(rng, flow.rate * span * self._profile.factor(middle))
                if not draws:
                    continue
                placed = [(low_us + int(f * (high_us - low_us)), buy, u) for f, buy, u in draws]
                buckets.append(flow.bucket(second, placed, book))
                last = placed[-1]
            if last is not None:
                at_us, buy, units = last
                self._last[symbol_id] = self._trade(
                    flow,
                    _EPOCH + timedelta(microseconds=at_us),
                    (book.asks if buy else book.bids)[0].price,
                    flow.size(units),
                    Side.BUY if buy else Side.SELL,
                )

    def print_background(
        self, instrument: Instrument, book: Book, step: int, start: datetime, end: datetime
    ) -> None:
        """Print one market step's background trades of ``instrument``, between start and end."""
        symbol_id = instrument.symbol_id_coinapi
        flow = self._flows[symbol_id]
        if not book.bids or not book.asks:
            return
        rng = random.Random(f"{self._seed}:{symbol_id}:tape:{step}")
        expected = flow.rate * self._step_seconds * self._profile.factor(start + (end - start) / 2)
        for fraction, buy, units in flow.draw(rng, expected):
            level = book.asks[0] if buy else book.bids[0]
            time = start + (end - start) * fraction
            self._print(flow, time, level.price, flow.size(units), Side.BUY if buy else Side.SELL)

    def print_fill(
        self, instrument: Instrument, aggressor: Side, price: Decimal, size: Decimal, time: datetime
    ) -> None:
        """Print a fill of the simulated EMS; ``aggressor`` is its order's side."""
        self._print(self._flows[instrument.symbol_id_coinapi], time, price, size, aggressor)

    def prune(self, now: datetime) -> None:
        """Forget the buckets that have aged out of the retention."""
        oldest = epoch_second(now) - self._retention_seconds
        for buckets in self._buckets.values():
            cut = bisect.bisect_left(buckets, oldest, key=_second)
            if cut:
                del buckets[:cut]

    # -- reading ---------------------------------------------------------------------------------

    def take_printed(self) -> dict[str, list[Trade]]:
        """The trades printed since the last call, per symbol in print order, and forget them."""
        printed = {symbol: list(trades) for symbol, trades in self._pending.items() if trades}
        for symbol in printed:
            self._pending[symbol].clear()
        return printed

    def buckets(
        self, symbol_id: str, start: int | None = None, end: int | None = None
    ) -> list[Bucket]:
        """A symbol's buckets whose second lies in ``[start, end)``, oldest first."""
        buckets = self._buckets[symbol_id]
        low = 0 if start is None else bisect.bisect_left(buckets, start, key=_second)
        high = len(buckets) if end is None else bisect.bisect_left(buckets, end, key=_second)
        return buckets[low:high]

    def last_trade(self, symbol_id: str) -> Trade | None:
        """The newest trade of a symbol, or None before its first."""
        return self._last.get(symbol_id)

    # -- inside ----------------------------------------------------------------------------------

    def _print(
        self, flow: _Flow, time: datetime, price: Decimal, size: Decimal, aggressor: Side
    ) -> None:
        symbol_id = flow.symbol_id
        last = self._last.get(symbol_id)
        if last is not None and time < last.time:
            time = last.time
        trade = self._trade(flow, time, price, size, aggressor)
        buckets = self._buckets[symbol_id]
        if buckets and buckets[-1].second == epoch_second(time):
            buckets[-1] = buckets[-1].add(trade)
        else:
            buckets.append(Bucket.of(trade))
        self._pending[symbol_id].append(trade)
        self._last[symbol_id] = trade

    def _trade(
        self, flow: _Flow, time: datetime, price: Decimal, size: Decimal, aggressor: Side
    ) -> Trade:
        self._numbers[flow.symbol_id] += 1
        return Trade(
            symbol_id=flow.symbol_id,
            trade_id=f"{self._run_id}-{self._numbers[flow.symbol_id]}",
            time=time,
            price=price,
            size=size,
            aggressor=aggressor,
        )


@attrs.frozen
class _Flow:
    """How one instrument's background trades are drawn: their rate and their sizes.

    Sizes are whole numbers of the instrument's size increment (``units``), at least its
    minimum size, so every printed size lies on its grid.
    """

    symbol_id: str
    rate: float
    increment: Decimal
    min_units: int
    log_median_units: float

    @classmethod
    def of(cls, instrument: Instrument, parameters: MarketParameters) -> _Flow:
        underlying = parameters.underlyings[instrument.base]
        venue = parameters.venue(instrument.exchange)
        increment = instrument.size_increment
        typical_units = float(underlying.trade_size / increment)
        return cls(
            symbol_id=instrument.symbol_id_coinapi,
            rate=float(underlying.trade_rate * venue.volume_share),
            increment=increment,
            min_units=max(1, math.ceil(instrument.min_size / increment)),
            log_median_units=math.log(typical_units) - SIZE_SIGMA**2 / 2,
        )

    def draw(self, rng: random.Random, expected: float) -> list[tuple[float, bool, int]]:
        """A Poisson(``expected``) number of trades: (place in the span, is a buy, units)."""
        trades = [
            (
                rng.random(),
                rng.random() < 0.5,
                max(self.min_units, int(rng.lognormvariate(self.log_median_units, SIZE_SIGMA))),
            )
            for _ in range(poisson(rng, expected))
        ]
        trades.sort()
        return trades

    def size(self, units: int) -> Decimal:
        return units * self.increment

    def bucket(self, second: int, placed: Iterable[tuple[int, bool, int]], book: Book) -> Bucket:
        """One second's bucket of background trades ``(time in µs, is a buy, units)``."""
        trades = list(placed)
        prices = [(book.asks if buy else book.bids)[0].price for _, buy, _ in trades]
        return Bucket(
            second=second,
            open=prices[0],
            high=max(prices),
            low=min(prices),
            close=prices[-1],
            volume=self.size(sum(units for _, _, units in trades)),
            count=len(trades),
            first_time=_EPOCH + timedelta(microseconds=trades[0][0]),
            last_time=_EPOCH + timedelta(microseconds=trades[-1][0]),
        )


def poisson(rng: random.Random, expected: float) -> int:
    """A Poisson-distributed count with mean ``expected`` (normal approximation when large)."""
    if expected <= 0:
        return 0
    if expected >= _POISSON_EXACT_BELOW:
        return max(0, round(rng.gauss(expected, math.sqrt(expected))))
    threshold, count, product = math.exp(-expected), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _second(bucket: Bucket) -> int:
    return bucket.second


def _micros(moment: datetime) -> int:
    return _span_micros(moment - _EPOCH)


def _span_micros(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * _MICROS + span.microseconds
