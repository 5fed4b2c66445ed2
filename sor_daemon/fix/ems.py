"""The EMS order session: a quickfix initiator in a process of its own, whose news the engine
reads as values.

``EmsGateway`` implements the engine's ``OrderGateway``. It runs the session in its own process
(``ems_session``: why, and the lines the two exchange), writes each child order, status request
and mass cancel to it as FIX text without waiting, and turns what the process reports (logons,
logouts, ExecutionReports) into ``SessionUp``, ``SessionDown`` and ``ChildReport`` values
published on ``news`` (a ``Relay``): a report is read and translated on the Trio thread as it
arrives, and goes on from there at once, with no task of the gateway's own in between.
Sequence numbers and sent messages live in the session's quickfix FileStore under the data
directory, its messages and events in its FileLog.

A session process that ends unasked (it crashed, or was killed) is reported down and started
again after ``reconnect_seconds``; one that cannot start at all fails the gateway's ``run``.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import orjson
import structlog
import trio

from sor_daemon.domain.children import ChildOrder
from sor_daemon.domain.events import ChildPlanned
from sor_daemon.domain.values import ChildReport, ChildStatus
from sor_daemon.engine.ports import GatewayEvent, SessionDown, SessionUp
from sor_daemon.engine.relay import Relay
from sor_daemon.fix.bridge import shown
from sor_daemon.fix.dialect import (
    FlatFields,
    Tag,
    execution_report,
    new_order_single_text,
    order_mass_cancel_request,
    order_status_request,
)
from sor_daemon.fix.dictionary import write_ems_dictionary
from sor_daemon.fix.settings import SETTINGS_FILE, initiator_settings, tls_client_settings
from sor_daemon.logs import debug_enabled
from sor_daemon.pipes import LineReader, PipeWriter

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


class EmsSessionFailed(RuntimeError):
    """The EMS session's process could not start (its settings are unusable)."""


class EmsGateway:
    """The EMS session as the engine sees it: ``is_up``, ``send_new``, ``request_status``."""

    def __init__(self, settings: EmsSettings, data_dir: Path) -> None:
        self.settings = settings
        self._data_dir = data_dir / "fix" / "ems"
        self._up = False
        self._commands: PipeWriter | None = None
        """The session process's stdin, while it runs."""
        self._sequence_numbers: tuple[int, int] | None = None
        self._process_id: int | None = None
        self.news = Relay[GatewayEvent]()

    @property
    def is_up(self) -> bool:
        """True while the session is logged on (as far as the Trio side has heard)."""
        return self._up

    @property
    def sequence_numbers(self) -> tuple[int, int] | None:
        """The session's next outgoing and next expected incoming MsgSeqNum as its process
        last reported them (at most a second old), or None before it did."""
        return self._sequence_numbers

    @property
    def process_id(self) -> int | None:
        """The session process's id while it runs (it is in the log as it starts)."""
        return self._process_id

    def send_new(self, child: ChildPlanned) -> bool:
        """Send a child order; False when the session is down."""
        return self._send(new_order_single_text(child, datetime.now(UTC)))

    def request_status(self, child: ChildOrder) -> bool:
        """Ask the EMS where a child order stands (35=H)."""
        return self._send(order_status_request(child).toString())

    def mass_cancel(self, exchange: str) -> bool:
        """Ask the EMS to cancel every order on ``exchange`` (35=q, 530=7)."""
        now = datetime.now(UTC)
        request_id = f"halt-{exchange}-{now:%Y%m%d%H%M%S%f}"
        return self._send(order_mass_cancel_request(request_id, exchange, now).toString())

    def _send(self, text: str) -> bool:
        """Hand ``text`` to the session process without waiting; False while the session is
        down. A message quickfix then refuses comes back as ``refused``."""
        if not self._up or self._commands is None:
            return False
        self._trace("out", text)
        self._commands.write(orjson.dumps(("send", text)) + b"\n")
        return True

    def _tls_settings(self) -> dict[str, object] | None:
        """quickfix's SSL settings when the session runs over TLS (checked by the config)."""
        if not self.settings.tls:
            return None
        if self.settings.tls_ca is None:
            raise ValueError("a TLS session needs tls_ca to verify the EMS's certificate")
        return tls_client_settings(
            self.settings.tls_ca, self.settings.tls_cert, self.settings.tls_key
        )

    def _write_settings(self) -> Path:
        """Write the session's dictionary and quickfix settings file; the file's path."""
        dictionary = write_ems_dictionary(self._data_dir)
        initiator_settings(
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
        return self._data_dir / SETTINGS_FILE

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the session process and publish its news until cancelled, then have it log out
        and wait for it to end. A process that ends unasked is started again."""
        command = [sys.executable, "-m", "sor_daemon.fix.ems_session", str(self._write_settings())]
        if self.settings.tls:
            command.append("--tls")
        log.info(
            "EMS session connecting",
            tls=self.settings.tls,
            host=self.settings.host,
            port=self.settings.port,
            sender=self.settings.sender_comp_id,
            target=self.settings.target_comp_id,
        )
        await self._run_process(command, task_status)  # it returns if the process ended
        while True:
            await trio.sleep(self.settings.reconnect_seconds)
            try:
                await self._run_process(command, None)
            except EmsSessionFailed as error:
                log.error("EMS session process could not start again", error=str(error))

    async def _run_process(
        self, command: list[str], task_status: trio.TaskStatus[None] | None
    ) -> None:
        """Run one session process until it ends unasked or the gateway is cancelled (then
        stop it: it logs out, and its news is read until it has ended)."""
        commands_in, commands_out = os.pipe()
        news_in, news_out = os.pipe()
        try:
            process = await trio.lowlevel.open_process(
                [*command, "--news", str(news_out)], stdin=commands_in, pass_fds=(news_out,)
            )
        except BaseException:
            os.close(commands_out)
            os.close(news_in)
            raise
        finally:
            os.close(commands_in)
            os.close(news_out)
        news_stream = trio.lowlevel.FdStream(news_in)
        self._process_id = process.pid
        log.info("EMS session process started", pid=process.pid)
        news = LineReader(news_stream)
        self._commands = commands = PipeWriter(commands_out, lambda error: None)
        ended_unasked = False
        try:
            await self._until_started(news)
            if task_status is not None:
                task_status.started()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(commands.run)
                await self._read_news(news)
                ended_unasked = True
                nursery.cancel_scope.cancel()
        finally:
            self._commands = None
            self._process_id = None
            with trio.CancelScope(shield=True):
                commands.write(orjson.dumps(("stop",)) + b"\n")
                await commands.flush()
                await self._read_news(news)
                commands.close()
                await process.wait()
                await news_stream.aclose()
            reason = "the EMS session stopped"
            log.info("FIX session stopped", session="ems", exit_status=process.returncode)
            if ended_unasked:
                reason = f"the EMS session's process ended (exit status {process.returncode})"
                log.error("EMS session process ended; starting it again", reason=reason)
            self._went_down(reason)

    async def _until_started(self, news: LineReader) -> None:
        """Publish what the session process reports until it says it started; raise
        ``EmsSessionFailed`` if it cannot."""
        while (line := await news.next()) is not None:
            kind, *values = orjson.loads(line)
            if kind == "started":
                return
            if kind == "failed":
                raise EmsSessionFailed(f"the EMS session could not start: {values[0]}")
            self._hear(kind, values)
        raise EmsSessionFailed("the EMS session's process ended as it started")

    async def _read_news(self, news: LineReader) -> None:
        """Publish what the session process reports until its output ends."""
        while (lines := await news.batch()) is not None:
            for line in lines:
                kind, *values = orjson.loads(line)
                self._hear(kind, values)

    def _hear(self, kind: str, values: list[object]) -> None:
        """Act on one line of the session process's news."""
        if kind == "app":
            [text] = values
            assert isinstance(text, str)
            self._receive(text)
        elif kind == "admin":
            direction, text = values
            assert isinstance(direction, str) and isinstance(text, str)
            self._trace(direction, text)
        elif kind == "up":
            log.info("FIX session logged on", session="ems")
            self._up = True
            self.news.publish(SessionUp())
        elif kind == "down":
            log.info("FIX session logged out", session="ems")
            self._went_down(SessionDown().reason)
        elif kind == "seq":
            sender, target = values
            assert isinstance(sender, int) and isinstance(target, int)
            self._sequence_numbers = (sender, target)
        elif kind == "not resent":
            log.warning("not resending a stale NewOrderSingle", child_order_id=values[0])
        elif kind == "refused":
            text, reason = values
            assert isinstance(text, str) and isinstance(reason, str)
            self._refused(text, reason)

    def _receive(self, text: str) -> None:
        """Read and translate an application message, and hand on what it means."""
        self._trace("in", text)
        try:
            report = execution_report(FlatFields.read(text))
        except Exception:
            log.exception(
                "inbound FIX message could not be read", session="ems", message=shown(text)
            )
            return
        if report is not None:
            self.news.publish(report)

    def _refused(self, text: str, reason: str) -> None:
        """quickfix did not take a message: a child order it was is done, never sent."""
        fields = FlatFields.read(text)
        log.warning("FIX message not sent", session="ems", reason=reason, message=shown(text))
        if fields.get(Tag.MSG_TYPE) == "D" and (child_id := fields.get(Tag.CL_ORD_ID)):
            self.news.publish(
                ChildReport(child_id, ChildStatus.CANCELED, Decimal(0), text=f"not sent: {reason}")
            )

    def _trace(self, direction: str, text: str) -> None:
        """Log a FIX message at debug level (credentials redacted by the log)."""
        if debug_enabled():
            log.debug("FIX message", session="ems", direction=direction, fix=shown(text))

    def _went_down(self, reason: str) -> None:
        """Note the session down, and tell the engine if it thought it up."""
        if self._up:
            self._up = False
            self.news.publish(SessionDown(reason))
