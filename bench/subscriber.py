"""A process of WebSocket feed subscribers that only timestamp and count what they receive.

``python -m bench.subscriber URL COUNT OUT`` connects COUNT subscribers to URL, prints ``ready``
once all are connected, and records every message each receives: the index of its text among
the distinct texts the process saw, and the wall-clock time (``time.time()``) at which the frame
was read. On a line on stdin it closes every connection and writes what it saw to OUT as a
pickle (``{"texts": [...], "subscribers": [(indices, times, closed), ...]}``), which
``bench.feed.SubscriberGroup`` merges.

The subscribers are picows clients on asyncio, not trio-websocket: the instrument must carry far
more than what it measures. The fan-out goal is 200,000 messages a second to 100 subscribers on
a two-core machine that also runs the daemon and the simulator. A trio-websocket client passes
each message through wsproto's Python frame parser, an event object, a memory channel and a
task switch, and two processes of them received at most about 33,000 messages a second, the
raw server's and the daemon's alike. picows parses frames in C and hands each to one plain
callback, with no task, future or event object per message.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import sys
import time
from array import array
from pathlib import Path

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

START_LIMIT_SECONDS = 60
CLOSE_LIMIT_SECONDS = 5
CLOSE_ABNORMAL = 1006


class Recorder(WSListener):
    """One subscriber: the index and receipt time of every text message, and how the server
    ended the connection if it did before the process stopped."""

    def __init__(self, texts: dict[bytes, int]) -> None:
        self._texts = texts
        self._partial = bytearray()
        self.indices = array("l")
        self.times = array("d")
        self.closed: str | None = None
        self.stopping = False

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        """Record a whole text message (fragments are joined first); answer a close."""
        kind = frame.msg_type
        if kind is WSMsgType.TEXT and frame.fin and not self._partial:
            self._record(frame.get_payload_as_bytes())
        elif kind in (WSMsgType.TEXT, WSMsgType.CONTINUATION):
            self._partial += frame.get_payload_as_memoryview()
            if frame.fin:
                self._record(bytes(self._partial))
                self._partial.clear()
        elif kind is WSMsgType.CLOSE:
            if not self.stopping:
                code = frame.get_close_code()
                self.closed = f"{int(code)} {frame.get_close_message() or code.name}"
            if not transport.is_close_frame_sent:
                transport.send_close(WSCloseCode.OK)
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        """A connection lost with no close frame, unless the process was stopping."""
        if self.closed is None and not self.stopping:
            self.closed = f"{CLOSE_ABNORMAL} no close frame"

    def _record(self, payload: bytes) -> None:
        at = time.time()
        texts = self._texts
        self.indices.append(texts.setdefault(payload, len(texts)))
        self.times.append(at)


async def subscribe(url: str, count: int, out: Path) -> None:
    """Connect ``count`` subscribers, record until a line arrives on stdin, write ``out``."""
    texts: dict[bytes, int] = {}
    async with asyncio.timeout(START_LIMIT_SECONDS):
        connections = [await ws_connect(lambda: Recorder(texts), url) for _ in range(count)]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for transport, recorder in connections:
        recorder.stopping = True
        if not transport.is_disconnected:
            transport.send_close(WSCloseCode.OK)
    async with asyncio.timeout(CLOSE_LIMIT_SECONDS):
        for transport, _ in connections:
            await transport.wait_disconnected()
    seen = {
        "texts": [text.decode() for text in texts],
        "subscribers": [
            (recorder.indices, recorder.times, recorder.closed) for _, recorder in connections
        ],
    }
    out.write_bytes(pickle.dumps(seen, protocol=pickle.HIGHEST_PROTOCOL))


def main(argv: list[str] | None = None) -> None:
    """``URL COUNT OUT``: see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.subscriber")
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    arguments = parser.parse_args(argv)
    asyncio.run(subscribe(arguments.url, arguments.count, arguments.out))


if __name__ == "__main__":
    main()
