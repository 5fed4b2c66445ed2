"""A small FIX client for the simulator's tests: a quickfix SocketInitiator bridged into Trio.

It logs on as the dialect's OMS client, validates everything it receives against the dialect's
data dictionary (so a report the daemon could not parse fails the test), and hands each message
to the test as a ``{tag: value}`` dict through the Trio token, and each logon and logout.
Session-level Rejects (35=3) are handed over too, so a malformed message fails fast instead of
timing out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import quickfix as fix
import trio

from sor_daemon.fix.dictionary import write_ems_dictionary
from sor_daemon.sim.service import SimulatorHandle

Fields = dict[int, str]
WAIT = 20

_ids = itertools.count(1)


def new_id(prefix: str = "T") -> str:
    """A ClOrdID unique within the test run."""
    return f"{prefix}-{next(_ids)}"


def parse(raw: str) -> Fields:
    """``8=FIX.4.4|35=8|...`` into ``{8: "FIX.4.4", 35: "8", ...}`` (no repeating groups)."""
    fields: Fields = {}
    for pair in raw.split("\x01"):
        if pair:
            tag, _, value = pair.partition("=")
            fields[int(tag)] = value
    return fields


class _Application(fix.Application):
    def __init__(self, deliver: Callable[[tuple[str, Fields]], None]) -> None:
        super().__init__()
        self._deliver = deliver

    def onCreate(self, sessionID: fix.SessionID) -> None:
        pass

    def onLogon(self, sessionID: fix.SessionID) -> None:
        self._deliver(("logon", {}))

    def onLogout(self, sessionID: fix.SessionID) -> None:
        self._deliver(("logout", {}))

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        pass

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        fields = parse(message.toString())
        if fields.get(35) == "3":
            self._deliver(("message", fields))

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        pass

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        self._deliver(("message", parse(message.toString())))


class FixClient:
    """The test's end of the session: send requests, await what comes back."""

    def __init__(self, session_id: fix.SessionID, inbox: trio.MemoryReceiveChannel) -> None:
        self._session_id = session_id
        self._inbox = inbox

    def send(self, msg_type: str, fields: Iterable[tuple[int, str]]) -> None:
        message = fix.Message()
        message.getHeader().setField(35, msg_type)
        for tag, value in fields:
            message.setField(tag, value)
        self.send_message(message)

    def send_message(self, message: fix.Message) -> None:
        """Send a message built by the test (one with repeating groups, say)."""
        if not fix.Session.sendToTarget(message, self._session_id):
            raise AssertionError("the client is not logged on")

    @property
    def session(self) -> fix.Session:
        """The quickfix session, to log out and on again."""
        return fix.Session.lookupSession(self._session_id)

    async def receive(self) -> Fields:
        """The next application message (or session Reject), waiting at most ``WAIT`` s."""
        with trio.fail_after(WAIT):
            while True:
                kind, fields = await self._inbox.receive()
                if kind == "message":
                    return fields

    async def session_event(self) -> str:
        """The next ``"logon"`` or ``"logout"`` (waiting at most ``WAIT`` s), before any message."""
        with trio.fail_after(WAIT):
            kind, fields = await self._inbox.receive()
        assert kind != "message", f"expected a logon or logout, got {fields}"
        return kind

    async def expect(self, msg_type: str) -> Fields:
        """The next message, which must be of ``msg_type``."""
        fields = await self.receive()
        assert fields[35] == msg_type, f"expected 35={msg_type}, got {fields}"
        return fields

    async def reports_until_done(self, cl_ord_id: str) -> list[Fields]:
        """Every ExecutionReport of one order up to its final one (39=2, 4, 8 or C)."""
        reports = []
        while True:
            report = await self.expect("8")
            assert report[37] == cl_ord_id, report
            reports.append(report)
            if report[39] in ("2", "4", "8", "C"):
                return reports


@asynccontextmanager
async def connect(handle: SimulatorHandle, directory: Path) -> AsyncIterator[FixClient]:
    """Log on to a running simulator; log out and stop the initiator on the way out."""
    async with open_session(
        host=handle.fix_host,
        port=handle.fix_port,
        sender_comp_id=handle.target_comp_id,
        target_comp_id=handle.sender_comp_id,
        dictionary=write_ems_dictionary(directory),
        directory=directory,
    ) as client:
        yield client


@asynccontextmanager
async def open_session(
    *,
    host: str,
    port: int,
    sender_comp_id: str,
    target_comp_id: str,
    dictionary: Path,
    directory: Path,
    reset_on_logon: bool = True,
    tls: Mapping[str, object] | None = None,
    logon_seconds: float = WAIT,
) -> AsyncIterator[FixClient]:
    """Log on as ``sender_comp_id`` within ``logon_seconds`` (else ``trio.TooSlowError``); log
    out and stop the initiator on the way out.

    Without ``reset_on_logon`` the sequence numbers live in a FileStore under ``directory``, so
    a later session from the same directory goes on where this one stopped. With ``tls``
    (``tls_client_settings``) the initiator is quickfix's ``SSLSocketInitiator``.
    """
    token = trio.lowlevel.current_trio_token()
    sender, receiver = trio.open_memory_channel[tuple[str, Fields]](math.inf)

    def hand_over(item: tuple[str, Fields]) -> None:
        with suppress(trio.ClosedResourceError):
            sender.send_nowait(item)

    def deliver(item: tuple[str, Fields]) -> None:
        with suppress(trio.RunFinishedError):
            token.run_sync_soon(hand_over, item)

    reset = "Y" if reset_on_logon else "N"
    settings_path = directory / "client.cfg"
    settings_path.write_text(
        "\n".join(
            [
                "[DEFAULT]",
                "ConnectionType=initiator",
                f"SocketConnectHost={host}",
                f"SocketConnectPort={port}",
                "HeartBtInt=1",
                "ReconnectInterval=1",
                "StartTime=00:00:00",
                "EndTime=00:00:00",
                "UseDataDictionary=Y",
                f"DataDictionary={dictionary}",
                f"ResetOnLogon={reset}",
                f"ResetOnLogout={reset}",
                f"ResetOnDisconnect={reset}",
                f"FileLogPath={directory / 'log'}",
                f"FileStorePath={directory / 'store'}",
                *(f"{key}={value}" for key, value in (tls or {}).items()),
                "",
                "[SESSION]",
                "BeginString=FIX.4.4",
                f"SenderCompID={sender_comp_id}",
                f"TargetCompID={target_comp_id}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    session_id = fix.SessionID("FIX.4.4", sender_comp_id, target_comp_id)
    application = _Application(deliver)
    settings = fix.SessionSettings(str(settings_path))
    store_factory = fix.MemoryStoreFactory() if reset_on_logon else fix.FileStoreFactory(settings)
    log_factory = fix.FileLogFactory(settings)
    initiator_class = fix.SSLSocketInitiator if tls else fix.SocketInitiator
    initiator = initiator_class(application, store_factory, settings, log_factory)
    await trio.to_thread.run_sync(initiator.start)
    try:
        with trio.fail_after(logon_seconds):
            while (await receiver.receive())[0] != "logon":
                pass
        yield FixClient(session_id, receiver)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(initiator.stop)
        del initiator
        sender.close()
