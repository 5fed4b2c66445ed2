"""The EMS session's own process: a quickfix initiator the daemon drives over two pipes.

``python -m sor_daemon.fix.ems_session SETTINGS --news FD [--tls]`` runs the session that the
quickfix settings file ``SETTINGS`` describes (``SSLSocketInitiator`` with ``--tls``), with its
FileStore and FileLog where the settings say. It reads commands on stdin and writes its news on
the file descriptor ``FD`` (not stdout: quickfix's SSL code prints there).

Why a process: quickfix calls back into Python on its own threads, and each call, and each of
quickfix's own calls made from Python, gives up the GIL and must take it back. In the daemon
those threads waited for a busy Trio thread before a report could even be read (half of a
fill's way to the screen at its p99), and building and sending every child order cost the
Trio thread a fifth of its time. Here nothing else holds the GIL: the reader thread hands a
report on as soon as it has it, and the daemon writes and reads pipes without waiting.

The daemon writes one JSON array a line on stdin:

- ``["send", text]``: send the FIX message ``text`` (quickfix sets the header's session fields
  and the sequence number as it sends);
- ``["stop"]``: log out, wait for the logout, and exit.

It reads one JSON array a line on ``FD``:

- ``["started"]`` once the session runs, or ``["failed", reason]`` if it cannot start (the
  process then exits with status 1);
- ``["up"]`` and ``["down"]``: the session logged on, and logged out or lost its connection;
- ``["app", text]``: an application message received, as its FIX text;
- ``["admin", direction, text]``: an administrative message (a heartbeat, a logon, a reject),
  ``"in"`` or ``"out"``, for the daemon's debug trace;
- ``["refused", text, reason]``: a message quickfix did not take;
- ``["not resent", client_order_id]``: a NewOrderSingle asked for again by a ResendRequest went
  as a gap fill instead;
- ``["seq", next_sender, next_target]``: the session's sequence numbers, whenever they changed,
  at most once a second.

stdin ending without ``["stop"]`` means the daemon is gone: the process ends at once and the
connection drops, as it would have with the session inside the daemon. SIGINT and SIGTERM are
ignored: a Ctrl-C in a terminal and systemd's stop reach every process of the daemon, and the
session must stay up while the daemon stops, to log out when it is told to.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import threading
from pathlib import Path

import orjson
import quickfix as fix

from sor_daemon.fix.outbox import Outbox
from sor_daemon.interpreter import defer_to_the_daemon

TAG_CL_ORD_ID = 11
TAG_MSG_TYPE = 35
TAG_POSS_DUP = 43
MSG_TYPE_NEW_ORDER_SINGLE = "D"
SEQUENCE_REPORT_SECONDS = 1.0


class Output:
    """The pipe to the daemon: whole lines, from any thread, in order, without waiting. A
    daemon that is gone ends the process (there is no one left to trade for).

    quickfix's ``SocketInitiator`` reads the socket, keeps the heartbeats and calls back into
    Python on one thread. Written from its callbacks, a line waited for a daemon that had
    fallen behind in reading its news, and the socket and the heartbeats waited with it: the
    peer's TestRequests went unanswered until the daemon read again. A session with a
    one-second heartbeat interval does not live through two seconds of that; it is the likely
    cause of the EMS session the schedule benchmark lost under load (``bench/RESULTS.md``).

    So the pipe does not block: a line goes straight in when the pipe takes it and nothing
    waits before it, and otherwise to an outbox (``fix.outbox``) whose thread alone waits for
    the daemon to read. Handing every line to that thread made each report wait for a wake-up
    of it and a hand-over of the GIL: at 500 fills a second, from quickfix logging a fill in to
    the daemon's Trio thread booking it took p50 0.43-0.86 ms and p99 2.8-5.8 ms that way, and
    0.32-0.51 and 1.8-3.6 ms written directly (six alternated pairs, each pair lower). The
    session's CPU a child did not change measurably either way.
    """

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._lock = threading.Lock()
        self._waiting = 0
        """Lines in the outbox not yet written: while there are any, new ones queue too."""
        self._outbox = Outbox[bytes](self._write_waiting, name="news")
        self._outbox.open()

    def send(self, *values: object) -> None:
        """Write ``values`` as one JSON line, or queue what the pipe does not take now."""
        line = orjson.dumps(values) + b"\n"
        with self._lock:
            if not self._waiting:
                line = line[self._write_some(line) :]
                if not line:
                    return
            if self._outbox.put(line):
                self._waiting += 1

    def flush(self) -> None:
        """Write every line queued, then stop the writing thread."""
        self._outbox.close(send_queued=True)

    def _write_waiting(self, line: bytes) -> None:
        """The outbox's thread: write all of ``line``, waiting for the pipe as long as needed."""
        while line:
            select.select([], [self._fd], [])
            line = line[self._write_some(line) :]
        with self._lock:
            self._waiting -= 1

    def _write_some(self, line: bytes) -> int:
        """Write what the pipe takes of ``line`` now: how many bytes."""
        try:
            return os.write(self._fd, line)
        except BlockingIOError:
            return 0
        except OSError:
            os._exit(0)


class Forwarder(fix.Application):
    """Hands the session's news to the daemon, and refuses to resend a stale order.

    quickfix ends the process if a Python exception escapes a callback; none can escape these:
    ``Output.send`` raises nothing."""

    def __init__(self, output: Output) -> None:
        super().__init__()
        self._output = output

    def onCreate(self, sessionID: fix.SessionID) -> None:
        """quickfix made the session."""

    def onLogon(self, sessionID: fix.SessionID) -> None:
        """The session logged on."""
        self._output.send("up")

    def onLogout(self, sessionID: fix.SessionID) -> None:
        """The session logged out or lost its connection."""
        self._output.send("down")

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Administrative messages go out as quickfix builds them; the daemon traces them."""
        self._output.send("admin", "out", message.toString())

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Administrative messages need nothing from us; the daemon traces them."""
        self._output.send("admin", "in", message.toString())

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """A PossDup NewOrderSingle (a resend) becomes a gap fill: a child order is never sent
        twice. PossDupFlag is read first: only a resent message has it."""
        header = message.getHeader()
        if (
            header.isSetField(TAG_POSS_DUP)
            and header.getField(TAG_POSS_DUP) == "Y"
            and header.getField(TAG_MSG_TYPE) == MSG_TYPE_NEW_ORDER_SINGLE
        ):
            has_id = message.isSetField(TAG_CL_ORD_ID)
            self._output.send("not resent", message.getField(TAG_CL_ORD_ID) if has_id else "")
            raise fix.DoNotSend()

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Hand an application message's text to the daemon, which reads it."""
        self._output.send("app", message.toString())


def report_sequence_numbers(
    session_id: fix.SessionID, output: Output, stopped: threading.Event
) -> None:
    """Tell the daemon the session's sequence numbers when they changed, once a second, until
    ``stopped`` (for its metrics)."""
    last = None
    while not stopped.wait(SEQUENCE_REPORT_SECONDS):
        session = fix.Session.lookupSession(session_id)
        if session is None:
            continue
        numbers = (session.getExpectedSenderNum(), session.getExpectedTargetNum())
        if numbers != last:
            output.send("seq", *numbers)
            last = numbers


def serve(settings_path: Path, *, tls: bool, commands: int, news: int) -> int:
    """Run the session, sending what ``commands`` carries, until told to stop (0) or until
    ``commands`` ends (the daemon is gone: exits at once)."""
    output = Output(news)
    initiator_class = fix.SSLSocketInitiator if tls else fix.SocketInitiator
    try:
        settings = fix.SessionSettings(str(settings_path))
        initiator = initiator_class(
            Forwarder(output),
            fix.FileStoreFactory(settings),
            settings,
            fix.FileLogFactory(settings),
        )
        [session_id] = list(initiator.getSessions())
        initiator.start()
    except Exception as error:
        output.send("failed", str(error) or type(error).__name__)
        output.flush()
        return 1
    output.send("started")
    stopped = threading.Event()
    threading.Thread(
        target=report_sequence_numbers, args=(session_id, output, stopped), daemon=True
    ).start()
    with os.fdopen(commands, "rb", buffering=1 << 16) as lines:
        for line in lines:
            command = orjson.loads(line)
            if command[0] == "stop":
                stopped.set()
                initiator.stop()
                output.flush()
                return 0
            _send(command[1], session_id, output)
    output.flush()  # what is queued, for a daemon that may still read
    os._exit(0)


def _send(text: str, session_id: fix.SessionID, output: Output) -> None:
    try:
        taken = fix.Session.sendToTarget(fix.Message(text, False), session_id)
        reason = "the session did not take it"
    except (fix.SessionNotFound, fix.InvalidMessage) as error:
        taken, reason = False, str(error) or type(error).__name__
    if not taken:
        output.send("refused", text, reason)


def main() -> None:
    """Parse the command line, ignore the stop signals, and serve stdin and the news pipe."""
    parser = argparse.ArgumentParser(prog="python -m sor_daemon.fix.ems_session")
    parser.add_argument("settings", type=Path, help="the session's quickfix settings file")
    parser.add_argument("--news", type=int, required=True, help="the descriptor to report on")
    parser.add_argument("--tls", action="store_true", help="run the session over TLS")
    arguments = parser.parse_args()
    defer_to_the_daemon()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(
        serve(
            arguments.settings,
            tls=arguments.tls,
            commands=sys.stdin.fileno(),
            news=arguments.news,
        )
    )


if __name__ == "__main__":
    main()
