"""The EMS order session: a quickfix SocketInitiator whose news the engine reads as values.

``EmsGateway`` implements the engine's ``OrderGateway``: it sends child orders and status
requests with ``Session.sendToTarget`` (thread-safe; it writes the FileStore and the socket), and
turns logons, logouts and ExecutionReports into ``SessionUp``, ``SessionDown`` and
``ChildReport`` values published on ``news`` (a ``Relay``): the bridge translates a report on the
Trio thread and it goes on from there at once, with no task of the gateway's own in between.
Sequence numbers and sent messages live in a quickfix FileStore under the data directory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import attrs
import quickfix as fix
import structlog
import trio

from sor_daemon.domain.children import ChildOrder
from sor_daemon.domain.events import ChildPlanned
from sor_daemon.engine.ports import GatewayEvent, SessionDown, SessionUp
from sor_daemon.engine.relay import Relay
from sor_daemon.fix.bridge import TrioBridge, running_initiator
from sor_daemon.fix.dialect import (
    FlatFields,
    execution_report,
    new_order_single,
    order_mass_cancel_request,
    order_status_request,
)
from sor_daemon.fix.dictionary import write_ems_dictionary
from sor_daemon.fix.settings import initiator_settings, tls_client_settings

log = structlog.get_logger(__name__)


@attrs.frozen
class EmsSettings:
    """Where the EMS listens and how the session behaves (CoinAPI's sample values by default).

    With ``tls`` the session runs over TLS (quickfix's ``SSLSocketInitiator``, as CoinAPI's
    managed cloud requires): the server's certificate must chain to ``tls_ca`` (a PEM bundle),
    and ``tls_cert``/``tls_key`` (PEM, the key unencrypted) are the client certificate shown
    to it.
    """

    host: str = "127.0.0.1"
    port: int = 3401
    sender_comp_id: str = "OMS.FIX.CLIENT"
    target_comp_id: str = "CoinAPI.OEML.FIX"
    heartbeat_seconds: int = 1
    reconnect_seconds: int = 1
    reset_on_logon: bool = True
    tls: bool = False
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None


class EmsGateway:
    """The EMS session as the engine sees it: ``is_up``, ``send_new``, ``request_status``."""

    def __init__(self, settings: EmsSettings, data_dir: Path) -> None:
        self.settings = settings
        self._data_dir = data_dir / "fix" / "ems"
        self._session_id = fix.SessionID(
            "FIX.4.4", settings.sender_comp_id, settings.target_comp_id
        )
        self._up = False
        self.news = Relay[GatewayEvent]()

    @property
    def is_up(self) -> bool:
        """True while the session is logged on (as far as the Trio side has heard)."""
        return self._up

    @property
    def session_id(self) -> fix.SessionID:
        """The quickfix session's id (for its sequence numbers in the metrics)."""
        return self._session_id

    def send_new(self, child: ChildPlanned) -> bool:
        """Send a child order; False when quickfix did not take it."""
        return self._send(new_order_single(child, datetime.now(UTC)))

    def request_status(self, child: ChildOrder) -> bool:
        """Ask the EMS where a child order stands (35=H)."""
        return self._send(order_status_request(child))

    def mass_cancel(self, exchange: str) -> bool:
        """Ask the EMS to cancel every order on ``exchange`` (35=q, 530=7)."""
        now = datetime.now(UTC)
        request_id = f"halt-{exchange}-{now:%Y%m%d%H%M%S%f}"
        return self._send(order_mass_cancel_request(request_id, exchange, now))

    def _send(self, message: fix.Message) -> bool:
        if not self._up:
            return False
        try:
            return bool(fix.Session.sendToTarget(message, self._session_id))
        except fix.SessionNotFound:
            log.error("EMS session not found", session=self._session_id.toString())
            return False

    def _tls_settings(self) -> dict[str, object] | None:
        """quickfix's SSL settings when the session runs over TLS (checked by the config)."""
        if not self.settings.tls:
            return None
        if self.settings.tls_ca is None:
            raise ValueError("a TLS session needs tls_ca to verify the EMS's certificate")
        return tls_client_settings(
            self.settings.tls_ca, self.settings.tls_cert, self.settings.tls_key
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the initiator, publish its news until cancelled, then log out and stop it."""
        dictionary = write_ems_dictionary(self._data_dir)
        bridge = TrioBridge(
            "ems",
            trio.lowlevel.current_trio_token(),
            self._publish,
            translate=execution_report,
            on_logon=SessionUp,
            on_logout=SessionDown,
            read=FlatFields.read,
        )
        settings = initiator_settings(
            self._data_dir,
            dictionary,
            host=self.settings.host,
            port=self.settings.port,
            sender_comp_id=self.settings.sender_comp_id,
            target_comp_id=self.settings.target_comp_id,
            heartbeat_seconds=self.settings.heartbeat_seconds,
            reconnect_seconds=self.settings.reconnect_seconds,
            reset_on_logon=self.settings.reset_on_logon,
            tls=self._tls_settings(),
        )
        initiator_class = fix.SSLSocketInitiator if self.settings.tls else fix.SocketInitiator
        async with running_initiator(
            "ems",
            lambda: initiator_class(
                bridge, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings)
            ),
        ):
            log.info(
                "EMS session connecting",
                tls=self.settings.tls,
                host=self.settings.host,
                port=self.settings.port,
                sender=self.settings.sender_comp_id,
                target=self.settings.target_comp_id,
            )
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                self._up = False

    def _publish(self, event: GatewayEvent) -> None:
        """On the Trio thread: note a logon or logout, then pass the event on."""
        if isinstance(event, SessionUp):
            self._up = True
        elif isinstance(event, SessionDown):
            self._up = False
        self.news.publish(event)
