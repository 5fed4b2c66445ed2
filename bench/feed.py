"""WebSocket feed subscribers for the benchmarks, what they received, and the raw broadcasts.

Subscribers run in processes of their own (``python -m bench.subscriber``), so that what the
benchmark process does cannot delay their clocks. They only timestamp and count: each process
keeps every distinct message text once, and per subscriber the index of each message it received
with the wall-clock time (``time.time()``) at which it read it. Everything is decoded after the
run, once per distinct message. On ``stop`` (a line on stdin) a process writes what it saw to a
pickle file, which ``SubscriberGroup.collect`` merges into one ``Reception``.

Two raw servers give the baselines. The fill-to-screen baseline is a raw trio-websocket server
(``python -m bench.feed broadcast``) with the feed's shape and nothing else: one bounded queue
and one writer task per subscriber, a publisher that offers every message to every queue
(cutting off a subscriber whose queue is full) at a steady rate. At each wake-up the publisher
offers every message that has come due, so that it keeps to the rate however busy the writers
are: one message a wake-up would give it one turn in every round of the scheduler over the
writers, and so their pace. It stops once every subscriber is cut off. Each message carries the
moment it was published (``SentAt``) and is padded to the size of the daemon's messages, so the
same subscribers measure both. The fan-out baseline is ``bench.broadcast``'s picows server,
which frames a message once in C, as the daemon frames it once for all its subscribers: this one
frames it again for each, and carries a sixth of that fan-out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import pickle
import subprocess
import sys
import time
from array import array
from collections.abc import Container, Iterator
from pathlib import Path

import attrs
import trio
from trio_websocket import (
    WebSocketRequest,
    serve_websocket,
)

from bench.harness import BenchmarkFailed

QUEUE_SIZE = 4096
"""Messages a broadcast subscriber may fall behind before it is cut off: the daemon's default
``[api] feed_queue_size``."""
STOP_LIMIT_SECONDS = 120
CLOSE_NORMAL = 1000
CLOSE_TOO_SLOW = 1008


@attrs.frozen
class Arrivals:
    """What one subscriber received: message indices into ``Reception.texts`` and their times."""

    indices: array
    times: array
    closed: str | None
    """How the connection ended before the subscriber stopped (``1008 too slow: ...``, the close
    code first), or None."""

    @property
    def cut_off(self) -> bool:
        """The server closed the connection as too slow."""
        return self._code == CLOSE_TOO_SLOW

    @property
    def broken(self) -> bool:
        """The connection ended early otherwise than closed normally or as too slow: the server
        failed, or the connection dropped."""
        return self._code not in (None, CLOSE_NORMAL, CLOSE_TOO_SLOW)

    @property
    def _code(self) -> int | None:
        return None if self.closed is None else int(self.closed.split()[0])


@attrs.frozen
class Reception:
    """What every subscriber received; ``texts`` holds each distinct message once."""

    texts: list[str]
    subscribers: list[Arrivals]

    def missed(self) -> list[int]:
        """Per subscriber, how many of the distinct messages (those any subscriber received)
        it did not receive."""
        return [len(self.texts) - len(set(arrivals.indices)) for arrivals in self.subscribers]

    def disordered(self) -> int:
        """How many subscribers received a sequence (order, repeats) that is not the start of
        the longest one: the feed sends every subscriber the same messages in the same order."""
        reference = max(self.subscribers, key=lambda arrivals: len(arrivals.indices)).indices
        return sum(
            1
            for arrivals in self.subscribers
            if arrivals.indices != reference[: len(arrivals.indices)]
        )

    def first_receipts(self) -> list[float]:
        """The earliest receipt of each distinct message across every subscriber."""
        first = [float("inf")] * len(self.texts)
        for arrivals in self.subscribers:
            for index, at in zip(arrivals.indices, arrivals.times, strict=True):
                if at < first[index]:
                    first[index] = at
        return first

    def spreads(self, counted: Container[int]) -> list[float]:
        """For every receipt of a message in ``counted``, how long after the first receipt of
        that message it came: what serving the other subscribers cost it."""
        first = self.first_receipts()
        return [
            at - first[index]
            for arrivals in self.subscribers
            for index, at in zip(arrivals.indices, arrivals.times, strict=True)
            if index in counted
        ]

    def received(self, counted: Container[int]) -> list[int]:
        """Per subscriber, how many of the messages in ``counted`` it received."""
        return [
            sum(1 for index in arrivals.indices if index in counted)
            for arrivals in self.subscribers
        ]

    def latencies(self, produced: dict[int, float]) -> list[float]:
        """Receipt time less ``produced[index]`` for every receipt of a message in ``produced``."""
        return [
            at - produced[index]
            for arrivals in self.subscribers
            for index, at in zip(arrivals.indices, arrivals.times, strict=True)
            if index in produced
        ]


class SubscriberGroup:
    """Subscriber processes connected to one WebSocket URL, until ``collect``."""

    def __init__(self, processes: list[tuple[subprocess.Popen[str], Path]]) -> None:
        self._processes = processes

    def collect(self) -> Reception:
        """Stop every subscriber and merge what they received."""
        for process, _ in self._processes:
            assert process.stdin is not None
            process.stdin.write("stop\n")
            process.stdin.close()
        texts: dict[str, int] = {}
        subscribers: list[Arrivals] = []
        for process, out in self._processes:
            if process.wait(timeout=STOP_LIMIT_SECONDS) != 0 or not out.exists():
                raise BenchmarkFailed(f"a subscriber process failed ({process.returncode})")
            seen = pickle.loads(out.read_bytes())
            local = [texts.setdefault(text, len(texts)) for text in seen["texts"]]
            for indices, times, closed in seen["subscribers"]:
                merged = array("l", (local[index] for index in indices))
                subscribers.append(Arrivals(merged, times, closed))
        return Reception(list(texts), subscribers)


@contextlib.contextmanager
def subscribers(
    url: str, count: int, workdir: Path, *, processes: int = 1
) -> Iterator[SubscriberGroup]:
    """``count`` WebSocket subscribers to ``url`` over ``processes`` processes, every one
    connected when the block starts; killed on the way out if ``collect`` did not stop them."""
    started: list[tuple[subprocess.Popen[str], Path]] = []
    try:
        for number, share in enumerate(_shares(count, processes)):
            out = workdir / f"subscribers-{number}.pickle"
            command = [sys.executable, "-m", "bench.subscriber", url, str(share), str(out)]
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            started.append((process, out))
        for process, _ in started:
            _expect_line(process, "ready")
        yield SubscriberGroup(started)
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.kill()
                process.wait()


TRIO_WEBSOCKET_SERVER = ("bench.feed", "broadcast")
"""The raw trio-websocket broadcast server of this module."""
PICOWS_SERVER = ("bench.broadcast",)
"""The raw picows broadcast server (``bench.broadcast``): the least a WebSocket fan-out does."""


def broadcast_baseline(
    workdir: Path,
    server_command: tuple[str, ...],
    *,
    subscriber_count: int,
    processes: int,
    rate: float,
    size: int,
    count: int,
) -> tuple[Reception, dict[int, float]]:
    """A raw fan-out: ``count`` messages of ``size`` bytes at ``rate`` a second to
    ``subscriber_count`` subscribers from the server ``python -m`` runs with ``server_command``
    (``TRIO_WEBSOCKET_SERVER`` or ``PICOWS_SERVER``); what they received and, per message index,
    when the server published it."""
    command = [sys.executable, "-m", *server_command]
    command += [str(subscriber_count), str(rate), str(size), str(count)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        port = int(_expect_line(server, "port ").split()[1])
        url = f"ws://127.0.0.1:{port}/"
        with subscribers(url, subscriber_count, workdir, processes=processes) as group:
            limit = count / rate + STOP_LIMIT_SECONDS
            if server.wait(timeout=limit) != 0:
                raise BenchmarkFailed(f"the broadcast server failed ({server.returncode})")
            reception = group.collect()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    published = {
        index: json.loads(text)["SentAt"]
        for index, text in enumerate(reception.texts)
        if text.startswith('{"Type":"Broadcast"')
    }
    return reception, published


def _shares(count: int, processes: int) -> list[int]:
    """``count`` split as evenly as possible over at most ``processes`` parts, none empty."""
    parts = max(1, min(count, processes))
    return [count // parts + (1 if number < count % parts else 0) for number in range(parts)]


def _expect_line(process: subprocess.Popen[str], prefix: str) -> str:
    """The next line ``process`` prints, which must start with ``prefix``."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(prefix):
        process.kill()
        raise BenchmarkFailed(f"a feed process did not start: it printed {line!r}")
    return line


# -- the broadcast server process ---------------------------------------------------------------


async def _broadcast(subscriber_count: int, rate: float, size: int, count: int) -> None:
    queues: list[trio.MemorySendChannel[str]] = []
    cut_off: set[trio.MemorySendChannel[str]] = set()
    everyone, drained = trio.Event(), trio.Event()
    finished = 0

    async def serve(request: WebSocketRequest) -> None:
        nonlocal finished
        connection = await request.accept()
        send, receive = trio.open_memory_channel[str](QUEUE_SIZE)
        queues.append(send)
        if len(queues) == subscriber_count:
            everyone.set()
        async with receive:
            async for text in receive:
                await connection.send_message(text)
        await connection.aclose(CLOSE_TOO_SLOW if send in cut_off else CLOSE_NORMAL)
        finished += 1
        if finished == subscriber_count:
            drained.set()

    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_websocket, serve, "127.0.0.1", 0, None)
        print(f"port {server.port}", flush=True)
        await everyone.wait()
        start = trio.current_time()
        published = 0
        while published < count and len(cut_off) < len(queues):
            await trio.sleep_until(start + published / rate)
            behind = math.floor((trio.current_time() - start) * rate) + 1
            due = min(count, max(published + 1, behind))
            for number in range(published, due):
                text = padded(number, time.time(), size)
                for queue in queues:
                    if queue not in cut_off:
                        try:
                            queue.send_nowait(text)
                        except trio.WouldBlock:
                            cut_off.add(queue)
                            queue.close()
            published = due
        for queue in queues:
            queue.close()
        with trio.move_on_after(STOP_LIMIT_SECONDS):
            await drained.wait()
        nursery.cancel_scope.cancel()


def padded(number: int, sent_at: float, size: int) -> str:
    """Broadcast message ``number``, published at ``sent_at``, padded to ``size`` characters."""
    head = f'{{"Type":"Broadcast","Seq":{number},"SentAt":{sent_at!r},"Pad":"'
    return head + "x" * max(0, size - len(head) - 2) + '"}'


def main(argv: list[str] | None = None) -> None:
    """``broadcast SUBSCRIBERS RATE SIZE COUNT``: the baseline's server."""
    parser = argparse.ArgumentParser(prog="python -m bench.feed")
    commands = parser.add_subparsers(dest="command", required=True)
    broadcast = commands.add_parser("broadcast")
    broadcast.add_argument("subscribers", type=int)
    broadcast.add_argument("rate", type=float)
    broadcast.add_argument("size", type=int)
    broadcast.add_argument("count", type=int)
    arguments = parser.parse_args(argv)
    trio.run(_broadcast, arguments.subscribers, arguments.rate, arguments.size, arguments.count)


if __name__ == "__main__":
    main()
