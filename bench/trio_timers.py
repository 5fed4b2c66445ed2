"""The schedule benchmark's baseline: the same timers in a bare Trio program, nothing else.

One task per order, each sleeping with ``trio.sleep_until`` until its next deadline on an
absolute 1-second grid (its anchor + k seconds, the anchors offset as the daemon's orders were)
and recording how late it woke. What this costs is what Trio and the machine cost; what the
daemon adds on top is its own. Run as its own process, reading the anchor offsets (seconds,
a JSON list) on stdin and printing the lateness distribution in milliseconds as JSON::

    python -m bench.trio_timers --ticks 30 < offsets.json
"""

from __future__ import annotations

import argparse
import json
import sys

import trio

from bench.harness import distribution

INTERVAL_SECONDS = 1.0
START_DELAY_SECONDS = 1.0


async def measure(offsets: list[float], ticks: int) -> dict[str, float]:
    """Run one ticking task per offset for ``ticks`` ticks; the lateness of ticks 1 and up in
    ms (``p50`` ...), and the median of the first and of the last tick (``first_p50``,
    ``last_p50``)."""
    start = trio.current_time() + START_DELAY_SECONDS
    lateness: list[list[float]] = [[] for _ in range(ticks)]

    async def ticker(offset: float) -> None:
        for tick in range(1, ticks):
            due = start + offset + tick * INTERVAL_SECONDS
            await trio.sleep_until(due)
            lateness[tick].append((trio.current_time() - due) * 1000)

    async with trio.open_nursery() as nursery:
        for offset in offsets:
            nursery.start_soon(ticker, offset)
    every = [value for tick in lateness for value in tick]
    return {
        **distribution(every),
        "first_p50": distribution(lateness[1])["p50"],
        "last_p50": distribution(lateness[-1])["p50"],
    }


def main() -> None:
    """Read the offsets, tick, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.trio_timers", description=__doc__)
    parser.add_argument("--ticks", type=int, required=True, help="slices per task, slice 0 too")
    arguments = parser.parse_args()
    offsets = [float(value) for value in json.load(sys.stdin)]
    print(json.dumps(trio.run(measure, offsets, arguments.ticks)))


if __name__ == "__main__":
    main()
