"""A market-data FIX client for the simulator's tests: a quickfix SocketInitiator bridged into Trio.

It logs on as the daemon does (SenderCompID = the market-data key, TargetCompID = COINAPI_V2),
validates everything it receives against quickfix's standard FIX44.xml (so a message the daemon
could not parse fails the test), and hands each application message to the test as an
``MdMessage``: its top-level fields and the entries of group 268, each entry a ``{tag: value}``
dict. Session-level Rejects (35=3) are handed over too, so a malformed message fails fast
instead of timing out. Leaving ``connect_market_data`` logs out first and waits for the answer,
so neither end has to wait out quickfix's logout timeout.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from decimal import Decimal
from pathlib import Path

import attrs
import quickfix as fix
import quickfix44 as fix44
import trio

from sor_daemon.fix.dictionary import standard_fix44_path
from sor_daemon.sim.mdacceptor import MD_SENDER_COMP_ID
from sor_daemon.sim.service import SimulatorHandle

Fields = dict[int, str]
WAIT = 20
ENTRY_DELIMITERS = {"W": 269, "X": 279}

_ids = itertools.count(1)


def new_md_req_id() -> str:
    """An MDReqID unique within the test run."""
    return f"md-{next(_ids)}"


@attrs.frozen
class MdMessage:
    """One received message: ``fields`` outside group 268, ``entries`` the group's entries."""

    msg_type: str
    fields: Fields
    entries: tuple[Fields, ...]

    @property
    def md_req_id(self) -> str | None:
        return self.fields.get(262)


def parse(raw: str) -> MdMessage:
    """``8=FIX.4.4|35=W|...|268=2|269=0|...`` into fields and entries (group 268 only)."""
    pairs = [pair.partition("=") for pair in raw.split("\x01") if pair]
    fields: Fields = {}
    entries: list[Fields] = []
    msg_type = next(value for tag, _, value in pairs if tag == "35")
    delimiter = ENTRY_DELIMITERS.get(msg_type)
    in_group = False
    for tag_text, _, value in pairs:
        tag = int(tag_text)
        if tag == 268:
            in_group = True
        elif in_group and tag == delimiter:
            entries.append({tag: value})
        elif in_group and entries and tag != 10:
            entries[-1][tag] = value
        else:
            fields[tag] = value
    return MdMessage(msg_type, fields, tuple(entries))


class Replica:
    """A book kept from a snapshot and incremental refreshes, as the daemon keeps one."""

    def __init__(self, snapshot: MdMessage) -> None:
        self.sides: dict[str, dict[Decimal, Decimal]] = {"0": {}, "1": {}}
        for entry in snapshot.entries:
            if entry[269] in self.sides:
                self.sides[entry[269]][Decimal(entry[270])] = Decimal(entry[271])

    def apply(self, update: MdMessage) -> None:
        for entry in update.entries:
            if entry[279] != "1":
                continue
            levels = self.sides[entry[269]]
            price, size = Decimal(entry[270]), Decimal(entry[271])
            if size:
                levels[price] = size
            else:
                del levels[price]

    def levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """(bids best first, offers best first) as (price, size)."""
        bids = sorted(self.sides["0"].items(), reverse=True)
        return bids, sorted(self.sides["1"].items())


class _Application(fix.Application):
    def __init__(self, deliver: Callable[[tuple[str, MdMessage | None]], None]) -> None:
        super().__init__()
        self._deliver = deliver

    def onCreate(self, sessionID: fix.SessionID) -> None:
        pass

    def onLogon(self, sessionID: fix.SessionID) -> None:
        self._deliver(("logon", None))

    def onLogout(self, sessionID: fix.SessionID) -> None:
        self._deliver(("logout", None))

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        pass

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        if message.getHeader().getField(35) == "3":
            self._deliver(("message", parse(message.toString())))

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        pass

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        self._deliver(("message", parse(message.toString())))


class MarketDataClient:
    """The test's end of the market-data session: send requests, await what comes back."""

    def __init__(self, session_id: fix.SessionID, inbox: trio.MemoryReceiveChannel) -> None:
        self._session_id = session_id
        self._inbox = inbox

    def request(
        self,
        md_req_id: str,
        symbols: Iterable[str],
        *,
        request_type: str = "1",
        depth: str = "5",
        update_type: str | None = "1",
        entry_types: str = "012",
    ) -> None:
        """Send a MarketDataRequest (35=V); the defaults are the daemon's subscription."""
        message = fix44.MarketDataRequest()
        message.setField(262, md_req_id)
        message.setField(263, request_type)
        message.setField(264, depth)
        if update_type is not None:
            message.setField(265, update_type)
        for entry_type in entry_types:
            group = fix44.MarketDataRequest.NoMDEntryTypes()
            group.setField(269, entry_type)
            message.addGroup(group)
        for symbol in symbols:
            group = fix44.MarketDataRequest.NoRelatedSym()
            group.setField(55, symbol)
            message.addGroup(group)
        if not fix.Session.sendToTarget(message, self._session_id):
            raise AssertionError("the client is not logged on")

    async def receive(self) -> MdMessage:
        """The next application message (or session Reject), waiting at most ``WAIT`` s."""
        with trio.fail_after(WAIT):
            while True:
                kind, message = await self._inbox.receive()
                if kind == "message":
                    assert message is not None
                    assert message.msg_type != "3", f"session-level reject: {message}"
                    return message

    async def expect(self, msg_type: str, md_req_id: str | None = None) -> MdMessage:
        """The next message of ``msg_type`` (for ``md_req_id``), skipping any other."""
        while True:
            message = await self.receive()
            if message.msg_type == msg_type and md_req_id in (None, message.md_req_id):
                return message

    async def logout(self) -> None:
        """Log out and wait until the server has answered."""
        session = fix.Session.lookupSession(self._session_id)
        if session is None or not session.isLoggedOn():
            return
        message = fix.Message()
        message.getHeader().setField(35, "5")
        fix.Session.sendToTarget(message, self._session_id)
        with trio.fail_after(WAIT):
            while (await self._inbox.receive())[0] != "logout":
                pass


@asynccontextmanager
async def connect_market_data(
    handle: SimulatorHandle, directory: Path, *, api_key: str | None = None
) -> AsyncIterator[MarketDataClient]:
    """Log on to a running simulator's market-data port; log out and stop on the way out."""
    key = api_key or handle.md_api_key
    token = trio.lowlevel.current_trio_token()
    sender, receiver = trio.open_memory_channel[tuple[str, MdMessage | None]](math.inf)

    def hand_over(item: tuple[str, MdMessage | None]) -> None:
        with suppress(trio.ClosedResourceError):
            sender.send_nowait(item)

    def deliver(item: tuple[str, MdMessage | None]) -> None:
        with suppress(trio.RunFinishedError):
            token.run_sync_soon(hand_over, item)

    directory.mkdir(parents=True, exist_ok=True)
    settings_path = directory / "md-client.cfg"
    settings_path.write_text(
        "\n".join(
            [
                "[DEFAULT]",
                "ConnectionType=initiator",
                f"SocketConnectHost={handle.fix_host}",
                f"SocketConnectPort={handle.md_port}",
                "HeartBtInt=1",
                "ReconnectInterval=1",
                "StartTime=00:00:00",
                "EndTime=00:00:00",
                "UseDataDictionary=Y",
                f"DataDictionary={standard_fix44_path()}",
                "ResetOnLogon=Y",
                "ResetOnLogout=Y",
                "ResetOnDisconnect=Y",
                "",
                "[SESSION]",
                "BeginString=FIX.4.4",
                f"SenderCompID={key}",
                f"TargetCompID={MD_SENDER_COMP_ID}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    session_id = fix.SessionID("FIX.4.4", key, MD_SENDER_COMP_ID)
    settings = fix.SessionSettings(str(settings_path))
    initiator = fix.SocketInitiator(_Application(deliver), fix.MemoryStoreFactory(), settings)
    await trio.to_thread.run_sync(initiator.start)
    client = MarketDataClient(session_id, receiver)
    try:
        with trio.fail_after(WAIT):
            while (await receiver.receive())[0] != "logon":
                pass
        yield client
    finally:
        with trio.CancelScope(shield=True):
            with suppress(trio.TooSlowError):
                await client.logout()
            await trio.to_thread.run_sync(initiator.stop)
        del initiator
        sender.close()
