"""The simulated market: a seeded random walk per underlying and a book per venue and symbol.

Every base asset (BTC, ETH, ...) follows one geometric random walk, so a perpetual and a spot of
the same base move together; each venue quotes it around its own offset with its own spread,
level spacing and depth. The walk takes one step per ``step`` of wall time, computed lazily from
the time it is given (a long pause runs at most ``max_catch_up_steps`` steps, then skips ahead).
A book is generated from the walk's price and a per-step seeded size jitter, so the same seed
gives the same prices and books at the same step. Liquidity taken by fills stays taken until
the next step regenerates every book.

Not thread-safe: the exchange holds its lock around every call.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import attrs

from sor_daemon.domain.instruments import Instrument, InstrumentTable
from sor_daemon.sim.orders import Side
from sor_daemon.sim.settings import MarketParameters, UnderlyingParameters

BPS = Decimal(10_000)
_JITTER_LOW, _JITTER_HIGH = 0.7, 1.3


@attrs.frozen
class Level:
    """One price level of a book."""

    price: Decimal
    size: Decimal


@attrs.frozen
class Book:
    """Bids best (highest) first, asks best (lowest) first."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    def against(self, side: Side) -> tuple[Level, ...]:
        """The levels an order of ``side`` trades against: asks for a buy, bids for a sell."""
        return self.asks if side is Side.BUY else self.bids

    @property
    def mid(self) -> Decimal | None:
        """The middle of the best bid and ask, or None when a side is empty."""
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / 2


class PriceWalk:
    """A seeded geometric random walk of one underlying, one step at a time."""

    def __init__(self, parameters: UnderlyingParameters, seed: int) -> None:
        self._random = random.Random(f"{seed}:{parameters.base}")
        self._sigma = float(parameters.volatility_bps / BPS)
        self._price = float(parameters.reference_price)

    @property
    def price(self) -> Decimal:
        return Decimal(f"{self._price:.8f}")

    def step(self) -> None:
        self._price *= math.exp(self._random.gauss(0.0, self._sigma))


class Market:
    """Every book of every venue at the current step of the walks."""

    def __init__(
        self,
        instruments: InstrumentTable,
        parameters: MarketParameters,
        seed: int,
        start: datetime,
    ) -> None:
        parameters.check_covers(instruments)
        self._parameters = parameters
        self._seed = seed
        self._walks = {
            base: PriceWalk(parameters.underlyings[base], seed)
            for base in sorted({instrument.base for instrument in instruments})
        }
        self._step_index = 0
        self._next_step_at = start + parameters.step
        self._books: dict[str, Book] = {}
        self._taken: defaultdict[tuple[str, Side], defaultdict[Decimal, Decimal]] = defaultdict(
            lambda: defaultdict(Decimal)
        )

    @property
    def step_index(self) -> int:
        """How many steps the walks have taken."""
        return self._step_index

    def advance(self, now: datetime) -> int:
        """Take the steps due by ``now``; return how many ran (0 leaves every book as it is)."""
        if now < self._next_step_at:
            return 0
        due = (now - self._next_step_at) // self._parameters.step + 1
        steps = min(due, self._parameters.max_catch_up_steps)
        for _ in range(steps):
            for walk in self._walks.values():
                walk.step()
        self._step_index += steps
        self._next_step_at += due * self._parameters.step
        self._books.clear()
        self._taken.clear()
        return steps

    def underlying_price(self, base: str) -> Decimal:
        """The walk's current price of a base asset."""
        return self._walks[base.upper()].price

    def generated_book(self, instrument: Instrument) -> Book:
        """The book as the step generated it, before any fill took liquidity from it."""
        book = self._books.get(instrument.symbol_id_coinapi)
        if book is None:
            book = self._generate(instrument)
            self._books[instrument.symbol_id_coinapi] = book
        return book

    def book(self, instrument: Instrument) -> Book:
        """The book as it stands now: generated, less what fills took since the step."""
        generated = self.generated_book(instrument)
        return Book(
            bids=self._net(instrument, Side.SELL, generated.bids),
            asks=self._net(instrument, Side.BUY, generated.asks),
        )

    def levels_against(self, instrument: Instrument, side: Side) -> tuple[Level, ...]:
        """The levels an order of ``side`` trades against now (``Book.against`` of ``book``),
        without netting the other side: each order the simulator is sent reads this."""
        generated = self.generated_book(instrument)
        return self._net(instrument, side, generated.against(side))

    def take(self, instrument: Instrument, side: Side, price: Decimal, quantity: Decimal) -> None:
        """An order of ``side`` took ``quantity`` at ``price`` from the opposite side."""
        self._taken[(instrument.symbol_id_coinapi, side)][price] += quantity

    def _net(
        self, instrument: Instrument, taker: Side, levels: tuple[Level, ...]
    ) -> tuple[Level, ...]:
        """``levels`` less what orders of ``taker`` took from them since the step; a level
        nothing was taken from is kept as it is."""
        taken = self._taken.get((instrument.symbol_id_coinapi, taker))
        if not taken:
            return levels
        netted = []
        for level in levels:
            took = taken.get(level.price)
            if took is None:
                netted.append(level)
            elif level.size > took:
                netted.append(Level(level.price, level.size - took))
        return tuple(netted)

    def _generate(self, instrument: Instrument) -> Book:
        venue = self._parameters.venue(instrument.exchange)
        underlying = self._parameters.underlyings[instrument.base]
        increment = instrument.price_increment
        mid = self._walks[instrument.base].price * (1 + venue.offset_bps / BPS)
        half_spread = mid * venue.spread_bps / (2 * BPS)
        gap = max(mid * venue.level_gap_bps / BPS, increment)
        best_bid = instrument.round_price_down(mid - half_spread)
        best_ask = max(instrument.round_price_up(mid + half_spread), best_bid + increment)
        top_size = underlying.level_size * venue.depth
        jitter = random.Random(f"{self._seed}:{instrument.symbol_id_coinapi}:{self._step_index}")
        bids: list[Level] = []
        asks: list[Level] = []
        for index in range(self._parameters.levels):
            bid = instrument.round_price_down(best_bid - gap * index)
            if bids and bid >= bids[-1].price:
                bid = bids[-1].price - increment
            ask = instrument.round_price_up(best_ask + gap * index)
            if asks and ask <= asks[-1].price:
                ask = asks[-1].price + increment
            if bid > 0:
                bids.append(Level(bid, self._size(instrument, top_size, index, jitter)))
            asks.append(Level(ask, self._size(instrument, top_size, index, jitter)))
        return Book(bids=tuple(bids), asks=tuple(asks))

    def _size(
        self, instrument: Instrument, top_size: Decimal, index: int, jitter: random.Random
    ) -> Decimal:
        factor = Decimal(f"{jitter.uniform(_JITTER_LOW, _JITTER_HIGH):.4f}")
        size = top_size * (1 + self._parameters.size_growth * index) * factor
        return max(instrument.round_size_down(size), instrument.min_size)
