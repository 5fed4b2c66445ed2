"""The raw quickfix baseline of the throughput benchmark: an EMS acceptor and an order initiator.

Both ends are set up as the daemon sets up its EMS session (FileStore, FileLog, the dialect's
data dictionary with validation, CoinAPI's comp ids), with the daemon's own dictionary and
settings writers, and speak the EMS dialect with the daemon's and the simulator's codecs:

- ``python -m bench.raw_fix acceptor --port P --status-port S --data-dir D`` answers every
  NewOrderSingle with one ExecutionReport filling it completely at its limit price (and a status
  request with that filled state), and serves ``GET /`` on ``S``: how many orders it answered,
  the wall-clock times of the first and last answer and now, how far behind the last answer
  was (its time less the order's SendingTime), how many status requests it had, how many other
  application messages it ignored, and the CPU time it has used. It stops on
  SIGTERM. The benchmark uses the same acceptor as the EMS of the daemon, so both runs do the
  same acceptor work.
- ``python -m bench.raw_fix initiator --port P --count N --data-dir D`` logs on, sends N
  NewOrderSingles from one thread as fast as quickfix takes them (as the daemon's one sending
  path does) with at most ``IN_FLIGHT`` unfilled, waits for every fill and prints its figures
  (its CPU time among them) as one JSON line.

``running_acceptor`` and ``run_initiator`` start these processes for the benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import httpx
import quickfix as fix

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.fix.dialect import FlatFields, Tag, new_order_single_text, parse_timestamp
from sor_daemon.fix.dictionary import write_ems_dictionary
from sor_daemon.fix.ems import EmsSettings
from sor_daemon.fix.settings import common_defaults, initiator_settings, write_settings
from sor_daemon.protocol.messages import Side
from sor_daemon.sim.fixcodec import (
    NEW_ORDER_SINGLE,
    ORDER_STATUS_REQUEST,
    encode,
    parse_new_order,
    parse_status,
)
from sor_daemon.sim.orders import (
    ExecType,
    ExecutionReport,
    NewOrderRequest,
    OrderStatus,
    StatusRequest,
)
from sor_daemon.sim.service import free_port

BEGIN_STRING = "FIX.4.4"
EMS = EmsSettings()
"""The daemon's default EMS session: the acceptor takes its target comp id as its own."""
ACCEPTOR_SESSION = fix.SessionID(BEGIN_STRING, EMS.target_comp_id, EMS.sender_comp_id)
STARTUP_SECONDS = 30
IN_FLIGHT = 256
"""Orders the raw initiator keeps outstanding at most. Queueing all of them at once (tens of
thousands in half a second) now and then stalled both quickfix ends for tens of seconds; a
window is also how an order sender behaves (the daemon has one child per order out at a time)."""
FILL_STATUS = OrderStatus.FILLED.value
BASELINE_CHILD = {
    "exchange": "DERIBIT",
    "symbol_id_coinapi": "DERIBIT_PERP_BTC_USD",
    "symbol_id_exchange": "BTC-PERPETUAL",
    "side": Side.BUY,
    "quantity": Decimal("0.1"),
    "price": Decimal("60000.5"),
}


class _QuietApplication(fix.Application):
    """The callbacks neither end of the baseline needs: sessions, admin messages and what goes
    out are left as quickfix makes them."""

    def onCreate(self, sessionID: fix.SessionID) -> None:
        """Nothing to prepare."""

    def onLogout(self, sessionID: fix.SessionID) -> None:
        """Nothing to do."""

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Administrative messages go out as quickfix builds them."""

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Administrative messages need nothing."""

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Messages go out as built."""


class FillingApplication(_QuietApplication):
    """The acceptor: every NewOrderSingle is answered with a complete fill, and a status request
    about one of them with its filled state (the daemon asks when a report is late).

    The callback only reads the request and queues it; ``answer_forever``, on a thread of its
    own, answers in order. Answering in the callback stopped the session's reading whenever a
    send blocked: on a full machine the unread requests then filled the socket's receive buffer,
    loopback TCP dropped segments and backed off for seconds, and the daemon's session stalled
    with it (seen as three-second silences, then a dropped session, in the throughput runs).
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._fills: dict[str, ExecutionReport] = {}
        self.answered = 0
        self.status_requests = 0
        self.ignored = 0
        self.first: float | None = None
        self.last: float | None = None
        self.behind_seconds = 0.0
        """How long after its SendingTime the latest order was answered: it grows when the
        orders come faster than this process answers them (on a full machine, say)."""

    def status(self) -> dict[str, Any]:
        """What was answered so far, with the wall-clock time of this snapshot."""
        with self._lock:
            return {
                "answered": self.answered,
                "status_requests": self.status_requests,
                "ignored": self.ignored,
                "first": self.first,
                "last": self.last,
                "behind_seconds": self.behind_seconds,
                "now": time.time(),
                "cpu_seconds": time.process_time(),
            }

    def onLogon(self, sessionID: fix.SessionID) -> None:
        """Nothing to do: sequence numbers reset on every logon, as CoinAPI's sample does."""

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Queue a NewOrderSingle or a status request; count anything else as ignored."""
        try:
            fields = FlatFields.read(message.toString())
            msg_type = fields.getField(Tag.MSG_TYPE)
            if msg_type == NEW_ORDER_SINGLE:
                sent = fields.getField(Tag.SENDING_TIME)
                self._requests.put(_NewOrder(parse_new_order(fields), sent))
            elif msg_type == ORDER_STATUS_REQUEST:
                self._requests.put(parse_status(fields))
            else:
                with self._lock:
                    self.ignored += 1
        except Exception as error:  # an exception escaping a callback kills the process
            print(f"raw acceptor: {error!r}", file=sys.stderr, flush=True)

    def answer_forever(self) -> None:
        """Answer the queued requests in order, for as long as the process runs."""
        while True:
            request = self._requests.get()
            try:
                if isinstance(request, _NewOrder):
                    self._fill(request)
                else:
                    self._answer_status(request)
            except Exception as error:
                print(f"raw acceptor: {error!r}", file=sys.stderr, flush=True)

    def _fill(self, request: _NewOrder) -> None:
        report = _fill_report(request.order)
        fix.Session.sendToTarget(encode(report, lean=False), ACCEPTOR_SESSION)
        now = time.time()
        sent = parse_timestamp(request.sending_time, Tag.SENDING_TIME)
        with self._lock:
            self._fills[report.client_order_id] = report
            self.answered += 1
            self.behind_seconds = now - sent.timestamp()
            self.last = now
            if self.first is None:
                self.first = now

    def _answer_status(self, request: StatusRequest) -> None:
        with self._lock:
            self.status_requests += 1
            number = self.status_requests
            fill = self._fills.get(request.client_order_id or request.order_id or "")
        if fill is None:
            return
        report = attrs.evolve(
            fill,
            exec_id=f"{fill.exec_id}-status-{number}",
            exec_type=ExecType.ORDER_STATUS,
            last_qty=None,
            last_px=None,
            status_request_id=request.status_request_id,
            transact_time=datetime.now(UTC),
        )
        fix.Session.sendToTarget(encode(report, lean=False), ACCEPTOR_SESSION)


@attrs.frozen
class _NewOrder:
    """A NewOrderSingle as read in the callback, waiting for its answer."""

    order: NewOrderRequest
    sending_time: str


_Request = _NewOrder | StatusRequest


def _fill_report(order: NewOrderRequest) -> ExecutionReport:
    """The ExecutionReport filling the whole order at its limit price."""
    quantity = Decimal(order.quantity or "0")
    price = Decimal(order.price or "0")
    return ExecutionReport(
        exec_id=f"{order.client_order_id}-fill",
        exec_type=ExecType.TRADE,
        status=OrderStatus.FILLED,
        client_order_id=order.client_order_id,
        request_id=order.client_order_id,
        orig_client_order_id=None,
        exchange_order_id=f"raw-{order.client_order_id}",
        exchange=order.exchange,
        security_id=order.security_id,
        security_id_source=order.security_id_source,
        symbol=order.symbol,
        side=order.side,
        quantity=quantity,
        price=price,
        time_in_force=order.time_in_force,
        expire_time=None,
        cum_qty=quantity,
        leaves_qty=Decimal(0),
        avg_px=price,
        last_qty=quantity,
        last_px=price,
        transact_time=datetime.now(UTC),
    )


def serve_acceptor(port: int, status_port: int, data_dir: Path) -> None:
    """Run the filling acceptor and its status endpoint until SIGTERM."""
    dictionary = write_ems_dictionary(data_dir)
    defaults = common_defaults(data_dir, dictionary, reset_on_logon=EMS.reset_on_logon)
    defaults |= {
        "ConnectionType": "acceptor",
        "SocketAcceptPort": port,
        "SocketReuseAddress": True,
        "SocketNodelay": True,
    }
    session = {
        "BeginString": BEGIN_STRING,
        "SenderCompID": ACCEPTOR_SESSION.getSenderCompID().getValue(),
        "TargetCompID": ACCEPTOR_SESSION.getTargetCompID().getValue(),
    }
    settings = write_settings(data_dir, defaults, [session])
    application = FillingApplication()
    store, logs = fix.FileStoreFactory(settings), fix.FileLogFactory(settings)
    acceptor = fix.ThreadedSocketAcceptor(application, store, settings, logs)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    acceptor.start()
    threading.Thread(target=application.answer_forever, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", status_port), _status_handler(application))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        while not stopping.wait(1):
            pass
    finally:
        server.shutdown()
        acceptor.stop()
        del acceptor


def _status_handler(application: FillingApplication) -> type[BaseHTTPRequestHandler]:
    class StatusHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(application.status()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: one line per poll would only fill the log."""

    return StatusHandler


class CountingApplication(_QuietApplication):
    """The initiator: counts the fills that come back and says when all have."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self._expected = expected
        self.filled = 0
        self.logged_on = threading.Event()
        self.all_filled = threading.Event()
        self.window = threading.BoundedSemaphore(IN_FLIGHT)
        """Taken for each order sent, given back by its fill."""

    def onLogon(self, sessionID: fix.SessionID) -> None:
        """Ready to send."""
        self.logged_on.set()

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        """Count a fill (quickfix calls this on its one socket thread, so no lock)."""
        try:
            if message.getField(Tag.ORD_STATUS) != FILL_STATUS:
                return
        except Exception as error:  # an exception escaping a callback kills the process
            print(f"raw initiator: {error!r}", file=sys.stderr, flush=True)
            return
        self.filled += 1
        self.window.release()
        if self.filled == self._expected:
            self.all_filled.set()


def drive_initiator(port: int, count: int, data_dir: Path, timeout: float) -> dict[str, float]:
    """Log on, send ``count`` orders as fast as possible, wait for every fill; the figures."""
    dictionary = write_ems_dictionary(data_dir)
    settings = initiator_settings(
        data_dir,
        dictionary,
        host=EMS.host,
        port=port,
        sender_comp_id=EMS.sender_comp_id,
        target_comp_id=EMS.target_comp_id,
        heartbeat_seconds=EMS.heartbeat_seconds,
        reconnect_seconds=EMS.reconnect_seconds,
        reset_on_logon=EMS.reset_on_logon,
    )
    application = CountingApplication(count)
    store, logs = fix.FileStoreFactory(settings), fix.FileLogFactory(settings)
    initiator = fix.SocketInitiator(application, store, settings, logs)
    session_id = fix.SessionID(BEGIN_STRING, EMS.sender_comp_id, EMS.target_comp_id)
    initiator.start()
    try:
        if not application.logged_on.wait(STARTUP_SECONDS):
            raise SystemExit("raw initiator: no logon")
        started, cpu_started = time.time(), time.process_time()
        for number in range(count):
            if not application.window.acquire(timeout=timeout):
                break
            child = ChildPlanned(
                order_id="raw",
                child_id=f"raw-{number}",
                slice_index=number,
                at=datetime.now(UTC),
                **BASELINE_CHILD,
            )
            message = fix.Message(new_order_single_text(child, child.at), False)
            if not fix.Session.sendToTarget(message, session_id):
                raise SystemExit(f"raw initiator: order {number} was not sent")
        sent = time.time()
        application.all_filled.wait(timeout)
        finished, cpu_finished = time.time(), time.process_time()
    finally:
        initiator.stop()
        del initiator
    return {
        "sent": count,
        "filled": application.filled,
        "send_seconds": sent - started,
        "seconds": finished - started,
        "children_per_second": application.filled / (finished - started),
        "cpu_seconds": cpu_finished - cpu_started,
    }


@attrs.frozen
class RawAcceptor:
    """A running raw acceptor: its FIX port and its status endpoint."""

    port: int
    status_url: str
    log_path: Path

    def status(self) -> dict[str, Any]:
        """The acceptor's counts (see ``FillingApplication.status``)."""
        answer = httpx.get(self.status_url, timeout=5)
        answer.raise_for_status()
        return dict(answer.json())


@contextlib.contextmanager
def running_acceptor(directory: Path) -> Iterator[RawAcceptor]:
    """The raw acceptor as a process, ready when its status answers; stopped with SIGTERM."""
    directory.mkdir(parents=True, exist_ok=True)
    port, status_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    log_path = directory / "acceptor.log"
    command = [sys.executable, "-m", "bench.raw_fix", "acceptor", "--port", str(port)]
    command += ["--status-port", str(status_port), "--data-dir", str(directory)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    acceptor = RawAcceptor(port, f"http://127.0.0.1:{status_port}/", log_path)
    try:
        _wait_for_status(acceptor, process)
        yield acceptor
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
    if returncode != 0:
        raise RuntimeError(f"the raw acceptor exited with {returncode}:\n{log_path.read_text()}")


def _wait_for_status(acceptor: RawAcceptor, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            acceptor.status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(
                    f"the raw acceptor did not start:\n{acceptor.log_path.read_text()}"
                ) from None
            time.sleep(0.1)


def run_initiator(directory: Path, port: int, count: int, timeout: float) -> dict[str, float]:
    """Run the raw initiator as a process against ``port``; its figures."""
    directory.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "bench.raw_fix", "initiator", "--port", str(port)]
    command += ["--count", str(count), "--timeout", str(timeout), "--data-dir", str(directory)]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout + 2 * STARTUP_SECONDS
    )
    if finished.returncode != 0:
        events = "".join(path.read_text()[-2000:] for path in directory.glob("log/*.event.*"))
        raise RuntimeError(
            f"the raw initiator failed:\n{finished.stdout}{finished.stderr}\n"
            f"its FIX session events:\n{events}"
        )
    return dict(json.loads(finished.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    """``acceptor`` or ``initiator``, as the module docstring says."""
    parser = argparse.ArgumentParser(prog="python -m bench.raw_fix", description=__doc__)
    parser.add_argument("role", choices=("acceptor", "initiator"))
    parser.add_argument("--port", type=int, required=True, help="the acceptor's FIX port")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--status-port", type=int, help="acceptor: its status endpoint")
    parser.add_argument("--count", type=int, default=1000, help="initiator: orders to send")
    parser.add_argument("--timeout", type=float, default=60, help="initiator: wait for fills")
    arguments = parser.parse_args(argv)
    if arguments.role == "acceptor":
        if arguments.status_port is None:
            parser.error("the acceptor needs --status-port")
        serve_acceptor(arguments.port, arguments.status_port, arguments.data_dir)
        return 0
    figures = drive_initiator(
        arguments.port, arguments.count, arguments.data_dir, arguments.timeout
    )
    print(json.dumps(figures), flush=True)
    return 0 if figures["filled"] == figures["sent"] else 1


if __name__ == "__main__":
    sys.exit(main())
