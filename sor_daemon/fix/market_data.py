"""The market-data session: a quickfix SocketInitiator in CoinAPI's market-data dialect.

``MarketDataSession`` logs on with the API key as SenderCompID, sends one MarketDataRequest per
subscribed symbol, and turns logons, logouts, snapshots, incremental refreshes and rejects into
values on a Trio channel (``events``). What it subscribed to dies with the connection: after
each ``FeedUp`` its owner subscribes again to what it still needs.

A feed needs no resend: sequence numbers reset on every logon, the store is in memory, and
nothing sent is kept (a ResendRequest is answered with a gap fill, so a stale subscription is
never replayed). quickfix's log of every message would grow without bound on a busy feed, so the
session's events (connects, logons, rejects) go to the daemon's log and messages go nowhere.
"""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import attrs
import quickfix as fix
import structlog
import trio

from sor_daemon.fix.bridge import TrioBridge, running_initiator, sequence_numbers
from sor_daemon.fix.dictionary import standard_fix44_path
from sor_daemon.fix.md_dialect import (
    BookSnapshot,
    MarketDataFields,
    MarketDataRejected,
    MarketUpdate,
    SubscriptionRequestType,
    market_data_message,
    market_data_request,
)
from sor_daemon.fix.settings import initiator_settings

log = structlog.get_logger(__name__)

SESSION_NAME = "market-data"


@attrs.frozen
class MarketDataSettings:
    """Where the market-data server listens, who we are to it, and what we ask of it.

    ``api_key`` is the SenderCompID (CoinAPI matches the session by it); ``depth`` is how many
    levels a side each subscription asks for and each book keeps (``MarketData`` takes it).
    """

    host: str = "127.0.0.1"
    port: int = 3403
    api_key: str | None = None
    target_comp_id: str = "COINAPI_V2"
    heartbeat_seconds: int = 10
    reconnect_seconds: int = 5
    depth: int = 5


@attrs.frozen
class FeedUp:
    """The market-data session logged on: nothing is subscribed yet."""


@attrs.frozen
class FeedDown:
    """The market-data session is gone, and every subscription with it."""

    reason: str = "market-data session logged out"


MarketDataEvent = FeedUp | FeedDown | BookSnapshot | MarketUpdate | MarketDataRejected


@attrs.frozen
class _Subscription:
    md_req_id: str
    depth: int


class MarketDataSession:
    """The session as ``sor_daemon.market`` sees it: ``subscribe``, ``unsubscribe``, ``events``."""

    def __init__(self, settings: MarketDataSettings, data_dir: Path) -> None:
        if not settings.api_key:
            raise ValueError(
                "the market-data session needs an API key: it logs on with it as SenderCompID"
            )
        self.settings = settings
        self._api_key = settings.api_key
        self._data_dir = data_dir / "fix" / "market-data"
        self._session_id = fix.SessionID("FIX.4.4", self._api_key, settings.target_comp_id)
        self._up = False
        self._ids = itertools.count(1)
        self._subscriptions: dict[str, _Subscription] = {}
        self._send_events, self.events = trio.open_memory_channel[MarketDataEvent](float("inf"))

    @property
    def is_up(self) -> bool:
        """True while the session is logged on (as far as the Trio side has heard)."""
        return self._up

    @property
    def sequence_numbers(self) -> tuple[int, int] | None:
        """The session's next outgoing and next expected incoming MsgSeqNum (for the metrics),
        or None while quickfix has no such session."""
        return sequence_numbers(self._session_id)

    def subscribe(self, symbol_id: str, depth: int) -> str | None:
        """Subscribe to a symbol's book and trades; its MDReqID, or None when not sent.

        A symbol already subscribed in this session keeps its subscription (and id).
        """
        existing = self._subscriptions.get(symbol_id)
        if existing is not None:
            return existing.md_req_id
        md_req_id = f"md-{next(self._ids)}"
        request = market_data_request(
            md_req_id, symbol_id, depth, SubscriptionRequestType.SUBSCRIBE
        )
        if not self._send(request):
            return None
        self._subscriptions[symbol_id] = _Subscription(md_req_id, depth)
        log.info("market data subscribed", symbol_id=symbol_id, md_req_id=md_req_id, depth=depth)
        return md_req_id

    def unsubscribe(self, symbol_id: str) -> bool:
        """End a symbol's subscription; False when it had none or the request did not leave."""
        subscription = self._subscriptions.pop(symbol_id, None)
        if subscription is None:
            return False
        request = market_data_request(
            subscription.md_req_id,
            symbol_id,
            subscription.depth,
            SubscriptionRequestType.UNSUBSCRIBE,
        )
        log.info("market data unsubscribed", symbol_id=symbol_id, md_req_id=subscription.md_req_id)
        return self._send(request)

    def _send(self, message: fix.Message) -> bool:
        if not self._up:
            return False
        try:
            return bool(fix.Session.sendToTarget(message, self._session_id))
        except fix.SessionNotFound:
            log.error("market-data session not found", session=self._session_id.toString())
            return False

    def _track(self, event: MarketDataEvent) -> None:
        """Follow the session's state from what it hears, on the Trio thread."""
        if isinstance(event, FeedUp | FeedDown):
            self._up = isinstance(event, FeedUp)
            self._subscriptions.clear()
        elif isinstance(event, MarketDataRejected):
            rejected = [
                symbol_id
                for symbol_id, subscription in self._subscriptions.items()
                if subscription.md_req_id == event.md_req_id
            ]
            for symbol_id in rejected:
                del self._subscriptions[symbol_id]

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the initiator, forward its news until cancelled, then log out and stop it."""
        raw_send, raw_receive = trio.open_memory_channel[object](float("inf"))
        bridge = TrioBridge(
            SESSION_NAME,
            trio.lowlevel.current_trio_token(),
            raw_send.send_nowait,
            translate=market_data_message,
            on_logon=FeedUp,
            on_logout=FeedDown,
            read=MarketDataFields.read,
        )
        settings = initiator_settings(
            self._data_dir,
            standard_fix44_path(),
            host=self.settings.host,
            port=self.settings.port,
            sender_comp_id=self._api_key,
            target_comp_id=self.settings.target_comp_id,
            heartbeat_seconds=self.settings.heartbeat_seconds,
            reconnect_seconds=self.settings.reconnect_seconds,
            reset_on_logon=True,
            persist_messages=False,
        )
        async with running_initiator(
            SESSION_NAME,
            lambda: fix.SocketInitiator(
                bridge, fix.MemoryStoreFactory(), settings, _EventLogFactory(SESSION_NAME)
            ),
        ):
            log.info(
                "market-data session connecting",
                host=self.settings.host,
                port=self.settings.port,
                target=self.settings.target_comp_id,
            )
            task_status.started()
            try:
                async for event in raw_receive:
                    self._track(event)  # type: ignore[arg-type]
                    self._send_events.send_nowait(event)  # type: ignore[arg-type]
            finally:
                self._up = False
                self._subscriptions.clear()


class _EventLog(fix.Log):
    """One session's quickfix log: events to the daemon's log, messages nowhere.

    quickfix calls it on its own threads, and an exception escaping it ends the process.
    """

    def __init__(self, session: str) -> None:
        super().__init__()
        self._session = session

    def clear(self) -> None:
        """Nothing is kept, so nothing to clear."""

    def backup(self) -> None:
        """Nothing is kept, so nothing to back up."""

    def onIncoming(self, message: str) -> None:
        """Inbound messages are not logged."""

    def onOutgoing(self, message: str) -> None:
        """Outbound messages are not logged."""

    def onEvent(self, text: str) -> None:
        """A session event (connecting, logon, disconnect, reject) as one log line."""
        # A raise here would end the process, and a log call that failed has nowhere to report.
        with contextlib.suppress(Exception):
            log.info("quickfix event", session=self._session, event=text)


class _EventLogFactory(fix.LogFactory):
    """Makes an ``_EventLog`` for every log quickfix asks for."""

    def __init__(self, session: str) -> None:
        super().__init__()
        self._session = session

    def create(self, *session_id: fix.SessionID) -> fix.Log:
        """A log for the initiator (no argument) or for one session."""
        event_log = _EventLog(self._session)
        # quickfix keeps the log: hand it ownership, or the director object is freed under it.
        event_log.__disown__()
        return event_log

    def destroy(self, event_log: fix.Log) -> None:
        """quickfix is done with a log; it holds nothing to release."""
