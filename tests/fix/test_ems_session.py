"""The EMS session in its own process (``sor_daemon.fix.ems_session``), driven by the gateway.

- It stays up through a Ctrl-C and systemd's SIGTERM (they reach every process of the daemon),
  and logs out when the gateway stops.
- A session process that dies is reported down, started again, and trades again.
- Settings it cannot start with fail the gateway, naming why.
- Driven over its pipes directly: a message quickfix cannot take comes back refused, and the
  process ends at once, dropping the connection, when its daemon is gone (stdin ends unasked);
  a daemon that reads none of its news for a while holds up neither the session's socket nor
  its heartbeats, and is told everything, in order, once it reads again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import orjson
import pytest
import trio

from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.values import ChildReport, Side
from sor_daemon.engine.ports import GatewayEvent, SessionDown, SessionUp
from sor_daemon.fix.dictionary import write_ems_dictionary
from sor_daemon.fix.ems import EmsGateway, EmsSessionFailed, EmsSettings
from sor_daemon.fix.settings import SETTINGS_FILE, initiator_settings
from sor_daemon.sim.service import SimulatorHandle
from tests.sim.fix_client import Fields, parse
from tests.support.raw_fix import FixReader, read_messages, wire_message

WAIT_SECONDS = 30
SETTINGS = EmsSettings(heartbeat_seconds=30)
CHILD = ChildPlanned(
    "o-1",
    "o-1-1",
    0,
    "KRAKEN",
    "KRAKEN_SPOT_BTC_USD",
    "XBT/USD",
    Side.BUY,
    Decimal("0.01"),
    Decimal("1000000"),
    datetime(2026, 12, 6, tzinfo=UTC),
)


class HandWrittenEms:
    """A FIX peer on loopback that answers the logon, then records what it is sent, answering
    a Logout with a Logout."""

    def __init__(self, listener: trio.SocketListener) -> None:
        self._listener = listener
        self.port: int = listener.socket.getsockname()[1]
        self.messages: list[Fields] = []
        self.received = trio.Event()
        self.logged_out = trio.Event()

    async def serve(self) -> None:
        """Take one connection and serve it until the Logout."""
        ems, us = SETTINGS.target_comp_id, SETTINGS.sender_comp_id
        stream = await self._listener.accept()
        async with stream:
            [logon] = await read_messages(stream, 1)
            assert logon[35] == "A"
            await stream.send_all(wire_message(ems, us, 1, "A", [(98, "0"), (108, "30")]))
            while not self.logged_out.is_set():
                [message] = await read_messages(stream, 1)
                self.messages.append(message)
                self.received.set()
                if message[35] == "5":
                    await stream.send_all(wire_message(ems, us, 2, "5", []))
                    self.logged_out.set()


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded: a guard against hanging, not a measurement) until ``condition()``."""
    with trio.fail_after(WAIT_SECONDS):
        while not condition():
            await trio.sleep(0.02)


async def logged_on_process(gateway: EmsGateway) -> int:
    """The id of the gateway's session process, once the session is logged on."""
    await until(lambda: gateway.is_up)
    process_id = gateway.process_id
    assert process_id is not None
    return process_id


async def test_the_session_outlives_ctrl_c_and_sigterm_and_logs_out_when_stopped(
    tmp_path: Path,
) -> None:
    [listener] = await trio.open_tcp_listeners(0, host="127.0.0.1")
    ems = HandWrittenEms(listener)
    gateway = EmsGateway(attrs.evolve(SETTINGS, port=ems.port), tmp_path)
    async with trio.open_nursery() as outer:
        outer.start_soon(ems.serve)
        async with trio.open_nursery() as nursery:
            await nursery.start(gateway.run)
            process_id = await logged_on_process(gateway)
            os.kill(process_id, signal.SIGINT)
            os.kill(process_id, signal.SIGTERM)
            assert gateway.send_new(CHILD)
            with trio.fail_after(WAIT_SECONDS):
                await ems.received.wait()
            nursery.cancel_scope.cancel()
    assert [(m[35], m.get(11)) for m in ems.messages] == [("D", "o-1-1"), ("5", None)]
    assert not gateway.is_up
    with pytest.raises(ProcessLookupError):
        os.kill(process_id, 0)  # ended, and reaped by the gateway


async def test_a_session_process_that_dies_is_reported_down_started_again_and_trades(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    settings = EmsSettings(
        host=simulator.fix_host,
        port=simulator.fix_port,
        sender_comp_id=simulator.target_comp_id,
        target_comp_id=simulator.sender_comp_id,
    )
    gateway = EmsGateway(settings, tmp_path / "daemon")
    news: list[GatewayEvent] = []
    gateway.news.listen(news.append)
    async with trio.open_nursery() as nursery:
        await nursery.start(gateway.run)
        first = await logged_on_process(gateway)
        os.kill(first, signal.SIGKILL)
        await until(lambda: not gateway.is_up)
        assert not gateway.send_new(CHILD)  # down: refused at once
        await until(lambda: gateway.is_up)
        assert gateway.process_id not in (None, first)
        assert gateway.send_new(CHILD)
        await until(lambda: any(isinstance(e, ChildReport) and e.status.terminal for e in news))
        nursery.cancel_scope.cancel()
    kinds = [type(event) for event in news]
    assert kinds[:3] == [SessionUp, SessionDown, SessionUp]
    down = news[1]
    assert isinstance(down, SessionDown) and "process ended" in down.reason
    reports = [event for event in news if isinstance(event, ChildReport)]
    assert reports and {report.child_id for report in reports} == {"o-1-1"}
    assert kinds[-1] is SessionDown  # logged out as the gateway stopped


async def test_settings_the_session_cannot_start_with_fail_the_gateway_naming_why(
    tmp_path: Path,
) -> None:
    settings = EmsSettings(tls=True, tls_ca=tmp_path / "no-such-ca.pem")
    gateway = EmsGateway(settings, tmp_path)
    failed = pytest.RaisesGroup(
        pytest.RaisesExc(EmsSessionFailed, match="could not start: .*verify locations")
    )
    with failed:
        async with trio.open_nursery() as nursery:
            await nursery.start(gateway.run)
    assert not gateway.is_up


def session_settings(directory: Path, port: int, heartbeat_seconds: int = 30) -> Path:
    """A settings file for the session process, as the gateway writes it."""
    initiator_settings(
        directory,
        write_ems_dictionary(directory),
        host="127.0.0.1",
        port=port,
        sender_comp_id=SETTINGS.sender_comp_id,
        target_comp_id=SETTINGS.target_comp_id,
        heartbeat_seconds=heartbeat_seconds,
        reconnect_seconds=1,
        reset_on_logon=True,
    )
    return directory / SETTINGS_FILE


async def session_over_pipes(
    directory: Path, heartbeat_seconds: int = 30
) -> tuple[trio.SocketListener, trio.Process, int]:
    """A listener for the session to connect to, the session process started towards it with
    its commands on stdin, and the read end of its news pipe."""
    [listener] = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listener.socket.getsockname()[1]
    news_in, news_out = os.pipe()
    command = [sys.executable, "-m", "sor_daemon.fix.ems_session"]
    command += [str(session_settings(directory, port, heartbeat_seconds)), "--news", str(news_out)]
    process = await trio.lowlevel.open_process(command, stdin=subprocess.PIPE, pass_fds=(news_out,))
    os.close(news_out)
    return listener, process, news_in


async def test_over_its_pipes_a_bad_message_comes_back_refused_and_an_orphan_ends_at_once(
    tmp_path: Path,
) -> None:
    listener, process, news_in = await session_over_pipes(tmp_path)
    assert process.stdin is not None
    async with trio.lowlevel.FdStream(news_in) as news:
        with trio.fail_after(WAIT_SECONDS):
            stream = await listener.accept()
            [logon] = await read_messages(stream, 1)
            assert logon[35] == "A"
            await process.stdin.send_all(orjson.dumps(["send", "not FIX"]) + b"\n")
            await process.stdin.aclose()  # the daemon is gone: no ["stop"]
            output = b""
            while chunk := await news.receive_some():
                output += chunk
            assert await process.wait() == 0
            assert await stream.receive_some() == b""  # dropped, no Logout
    lines = [orjson.loads(line) for line in output.splitlines()]
    assert lines[0] == ["started"]
    [refused] = [line for line in lines if line[0] == "refused"]
    assert refused[1] == "not FIX" and refused[2]


TEST_REQUESTS = 2_000
"""Each makes two lines of news of some 150 bytes (the TestRequest in, the Heartbeat out):
several times what a pipe holds (64 KiB)."""


async def test_the_session_answers_its_peer_while_the_daemon_reads_no_news(
    tmp_path: Path,
) -> None:
    listener, process, news_in = await session_over_pipes(tmp_path, heartbeat_seconds=1)
    assert process.stdin is not None
    ems, us = SETTINGS.target_comp_id, SETTINGS.sender_comp_id
    answered: list[str] = []
    with trio.fail_after(WAIT_SECONDS), ending(process):
        stream = await listener.accept()
        peer = FixReader(stream)
        [logon] = await peer.next_messages()
        assert logon[35] == "A"
        await stream.send_all(wire_message(ems, us, 1, "A", [(98, "0"), (108, "1")]))
        for number in range(TEST_REQUESTS):
            body = [(112, f"t{number}")]
            await stream.send_all(wire_message(ems, us, number + 2, "1", body))
        while len(answered) < TEST_REQUESTS:  # the news pipe is not read meanwhile
            for message in await peer.next_messages():
                if message[35] == "0" and 112 in message:
                    answered.append(message[112])
        await process.stdin.send_all(orjson.dumps(["stop"]) + b"\n")
        async with trio.lowlevel.FdStream(news_in) as news, trio.open_nursery() as nursery:
            output = bytearray()

            async def read_news() -> None:
                while chunk := await news.receive_some():
                    output.extend(chunk)

            nursery.start_soon(read_news)
            while not any(message[35] == "5" for message in await peer.next_messages()):
                pass
            await stream.send_all(wire_message(ems, us, TEST_REQUESTS + 2, "5", []))
            assert await process.wait() == 0
    assert answered == [f"t{number}" for number in range(TEST_REQUESTS)]
    lines = [orjson.loads(line) for line in output.splitlines()]
    assert ["started"] in lines and ["up"] in lines
    heard = [parse(line[2]) for line in lines if line[:2] == ["admin", "in"]]
    assert [message[112] for message in heard if message[35] == "1"] == answered
    assert ["down"] in lines


@contextlib.contextmanager
def ending(process: trio.Process) -> Iterator[None]:
    """Kill ``process`` if it is still running when the block is left (a failed test)."""
    try:
        yield
    finally:
        if process.returncode is None:
            process.kill()
