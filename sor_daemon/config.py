"""The daemon's configuration: a TOML file (see ``sor-daemon.example.toml``), all of it optional.

With no file at all the daemon runs on its embedded default: the bundled EMS simulator in the
same process, FIX over loopback, the journal under ``./data``, the API on 127.0.0.1:8080. Every
key is checked on load; a typo or a bad value stops the start with a sentence saying which key.
"""

from __future__ import annotations

import ipaddress
import ssl
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import attrs
import cattrs

from sor_daemon.api.keys import ApiKey, KeyConfigError, check_keys, read_key_file
from sor_daemon.api.limits import ApiLimits
from sor_daemon.data import read_text
from sor_daemon.domain.instruments import InstrumentError, InstrumentTable
from sor_daemon.domain.risk import RiskLimits, SymbolLimits
from sor_daemon.engine.settings import TradingSettings
from sor_daemon.fix.ems import EmsSettings
from sor_daemon.fix.market_data import MarketDataSettings
from sor_daemon.fix.order_entry import OrderEntrySettings
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.periods import Period
from sor_daemon.sim.settings import MarketParameters, SimulatorConfigError, default_market

MAX_SLICE_LEAD_MS = 500
"""Half the shortest slice interval (1SEC): a slice is planned after the one before it is due."""


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the fix."""


def _refuse_unused_tls_paths(table: str, paths: Mapping[str, Path | None], purpose: str) -> None:
    """Raise ConfigError for TLS files named in ``table`` while its ``tls`` is false: a
    half-done TLS set-up must not pass for plain TCP unnoticed."""
    named = [f"{table}.{name}" for name, path in paths.items() if path is not None]
    if named:
        raise ConfigError(
            f"{', '.join(named)} set but {table}.tls is false: set {table}.tls = true to "
            f"{purpose}, or remove them"
        )


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as a host and a port number."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"listen address {text!r} is not HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@attrs.frozen
class ApiConfig(ApiLimits):
    """Where REST and the WebSocket feed listen, who may call them (API keys, stored hashed),
    TLS, and the input limits of ``ApiLimits``."""

    listen: str = "127.0.0.1:8080"
    keys: tuple[ApiKey, ...] = ()
    key_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def auth_required(self) -> bool:
        """True when keys are configured (inline or a key file, even an empty one)."""
        return bool(self.keys) or self.key_file is not None

    def api_keys(self) -> tuple[ApiKey, ...]:
        """The inline keys and the key file's (read now: a reload calls this again)."""
        try:
            from_file = read_key_file(self.key_file) if self.key_file is not None else ()
            return check_keys((*self.keys, *from_file), "api.keys")
        except KeyConfigError as error:
            raise ConfigError(str(error)) from None

    def check(self) -> None:
        """Raise ConfigError for a value that cannot be used, or an open API off loopback."""
        try:
            host, _ = parse_listen(self.listen)
        except ConfigError as error:
            raise ConfigError(f"api.listen: {error}") from None
        self.api_keys()
        if not self.auth_required and not is_loopback(host):
            raise ConfigError(
                f"api.listen {self.listen} can be reached from other machines, and no API keys "
                "are configured: add [[api.keys]] tables or api.key_file to the config (make a "
                "key with `sor-daemon hash-key`), or listen on 127.0.0.1"
            )
        for name in ("max_body_bytes", "max_message_bytes", "feed_queue_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"api.{name} must be at least 1")
        for name in ("max_connections", "max_open_orders_per_key"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"api.{name} must be at least 1 (leave it out for no limit)")
        self._check_tls()

    def _check_tls(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("api.tls_cert and api.tls_key go together: set both or neither")
        if self.tls_cert is None or self.tls_key is None:
            return
        for name, path in (("tls_cert", self.tls_cert), ("tls_key", self.tls_key)):
            try:
                path.read_bytes()
            except OSError as error:
                raise ConfigError(f"api.{name} {path} cannot be read: {error.strerror}") from None
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                self.tls_cert, self.tls_key
            )
        except ssl.SSLError as error:
            raise ConfigError(
                f"api.tls_cert {self.tls_cert} and api.tls_key {self.tls_key} are not a PEM "
                f"certificate (chain) and its private key: {error.reason or error}"
            ) from None


@attrs.frozen
class EmsConfig(EmsSettings):
    """The EMS: embedded (the bundled simulator, in process) or remote (the session's host and
    port), and its REST API for the account."""

    mode: Literal["embedded", "remote"] = "embedded"
    rest_url: str = "http://127.0.0.1:3402"
    api_key: str | None = None

    def check(self) -> None:
        """Raise ConfigError for TLS files that are missing, unreadable or not a key pair."""
        paths = {"tls_ca": self.tls_ca, "tls_cert": self.tls_cert, "tls_key": self.tls_key}
        if not self.tls:
            _refuse_unused_tls_paths("ems", paths, "run the EMS session over TLS")
            return
        if self.tls_ca is None:
            raise ConfigError(
                "ems.tls needs ems.tls_ca, the PEM file of the CA(s) the EMS's certificate must "
                "chain to (for a public CA: the system bundle, e.g. "
                "/etc/ssl/certs/ca-certificates.crt)"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("ems.tls_cert and ems.tls_key go together: set both or neither")
        check_tls_files("ems", paths, ca_key="tls_ca")


@attrs.frozen
class MarketDataConfig(MarketDataSettings):
    """The market-data FIX server and CoinAPI's REST API (OHLCV): embedded (the bundled
    simulator's) or remote (CoinAPI's, or ``sor-daemon ems-sim`` elsewhere)."""

    mode: Literal["embedded", "remote"] = "embedded"
    rest_url: str = "https://rest.coinapi.io"
    max_age: str = "10SEC"

    def check(self) -> None:
        """Raise ConfigError for a value that cannot be used."""
        if self.mode == "remote" and not self.api_key:
            raise ConfigError(
                "market_data.api_key is required for a remote market-data server: it is the "
                "FIX SenderCompID and the X-CoinAPI-Key of the OHLCV API"
            )
        if self.depth < 1:
            raise ConfigError("market_data.depth must be at least 1 level a side")
        if self.heartbeat_seconds < 1 or self.reconnect_seconds < 1:
            raise ConfigError("market_data.heartbeat_seconds and reconnect_seconds must be >= 1")
        _ = self.book_age

    @property
    def book_age(self) -> timedelta:
        """How old a book may be and still be routed on."""
        return _period(self.max_age, "market_data.max_age")


@attrs.frozen
class OrderEntryConfig(OrderEntrySettings):
    """FIX order entry: institutions' smart orders over FIX 4.4 (off while ``port`` is 0),
    over TLS with ``tls`` (clients must show a certificate from ``tls_ca`` when it is set)."""

    def check(self) -> None:
        """Raise ConfigError for a port, sessions or TLS files that cannot be used."""
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"order_entry.port {self.port} must be 0 (off) to 65535")
        if self.port and not self.sessions:
            raise ConfigError(
                "order_entry.port is set but no [[order_entry.sessions]] table says who may "
                "log on: add one with sender_comp_id (ours) and target_comp_id (the client's)"
            )
        clients = [session.target_comp_id for session in self.sessions]
        for number, session in enumerate(self.sessions):
            if not session.sender_comp_id.strip() or not session.target_comp_id.strip():
                raise ConfigError(f"order_entry.sessions[{number}] needs both comp ids")
            if clients.count(session.target_comp_id) > 1:
                raise ConfigError(
                    f"order_entry.sessions lists target_comp_id {session.target_comp_id!r} "
                    "twice: each client has one session"
                )
        self._check_tls()

    def _check_tls(self) -> None:
        paths = {"tls_cert": self.tls_cert, "tls_key": self.tls_key, "tls_ca": self.tls_ca}
        if not self.tls:
            _refuse_unused_tls_paths("order_entry", paths, "accept clients over TLS")
            return
        if self.tls_cert is None or self.tls_key is None:
            raise ConfigError(
                "order_entry.tls needs order_entry.tls_cert and order_entry.tls_key: the PEM "
                "certificate the acceptor presents to clients and its unencrypted private key"
            )
        check_tls_files("order_entry", paths, ca_key="tls_ca")


@attrs.frozen
class VwapConfig:
    """VWAP's defaults: the share of interval volume a slice may take, and how it finishes."""

    default_safety_threshold: str = "0.1"
    complete_at_end: bool = False

    @property
    def threshold(self) -> Decimal:
        """The default safety threshold; raises ConfigError unless 0 < it <= 1."""
        try:
            value = Decimal(self.default_safety_threshold)
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or not 0 < value <= 1:
            raise ConfigError(
                f"vwap.default_safety_threshold {self.default_safety_threshold!r} must be a "
                "fraction above 0 and at most 1"
            )
        return value


@attrs.frozen
class SimulatorConfig:
    """The bundled simulator, when the EMS or the market data is embedded, or run with
    ``sor-daemon ems-sim``."""

    host: str = "127.0.0.1"
    fix_port: int = 0
    http_port: int = 0
    md_port: int = 0
    market_file: Path | None = None
    seed: int = 1
    lean_reports: bool = False
    reset_on_logon: bool = True
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None

    def check(self) -> None:
        """Raise ConfigError for TLS settings that are incomplete or files that cannot be used."""
        paths = {
            "tls_cert": self.tls_cert,
            "tls_key": self.tls_key,
            "tls_client_ca": self.tls_client_ca,
        }
        if all(path is None for path in paths.values()):
            return
        if any(path is None for path in paths.values()):
            raise ConfigError(
                "simulator.tls_cert, simulator.tls_key and simulator.tls_client_ca go together: "
                "set all three (the EMS session then requires client certificates) or none"
            )
        check_tls_files("simulator", paths, ca_key="tls_client_ca")


def check_tls_files(table: str, paths: dict[str, Path | None], *, ca_key: str) -> None:
    """Raise ConfigError naming ``table.key`` unless every set path can be read, the CA file
    holds PEM certificates, and ``tls_cert`` with ``tls_key`` is a certificate and its
    unencrypted private key (quickfix cannot be given a key's password)."""
    for name, path in paths.items():
        if path is None:
            continue
        try:
            path.read_bytes()
        except OSError as error:
            raise ConfigError(f"{table}.{name} {path} cannot be read: {error.strerror}") from None
    ca = paths.get(ca_key)
    if ca is not None:
        try:
            ssl.create_default_context(cafile=ca)
        except ssl.SSLError as error:
            raise ConfigError(
                f"{table}.{ca_key} {ca} is not a PEM file of CA certificates: "
                f"{error.reason or error}"
            ) from None
    cert, key = paths.get("tls_cert"), paths.get("tls_key")
    if cert is None or key is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            cert, key, password=lambda: b""
        )
    except ssl.SSLError as error:
        raise ConfigError(
            f"{table}.tls_cert {cert} and {table}.tls_key {key} are not a PEM certificate and "
            f"its unencrypted private key: {error.reason or error}"
        ) from None


@attrs.frozen
class TradingConfig:
    """How child orders are priced and how patient the engine is."""

    price_tolerance_bps: str = "10"
    session_down_grace: str = "30SEC"
    max_consecutive_rejects: int = 3
    reconcile_timeout: str = "5SEC"
    slice_lead_ms: int = 50

    def settings(self, market_data: MarketDataConfig, vwap: VwapConfig) -> TradingSettings:
        """The engine's settings; raises ConfigError for a bad value."""
        try:
            tolerance = Decimal(self.price_tolerance_bps)
        except InvalidOperation:
            tolerance = Decimal(-1)
        if not tolerance.is_finite() or tolerance < 0:
            raise ConfigError(
                f"trading.price_tolerance_bps {self.price_tolerance_bps!r} must be a "
                "non-negative number of basis points"
            )
        if self.max_consecutive_rejects < 1:
            raise ConfigError("trading.max_consecutive_rejects must be at least 1")
        if not 0 <= self.slice_lead_ms <= MAX_SLICE_LEAD_MS:
            raise ConfigError(
                f"trading.slice_lead_ms {self.slice_lead_ms} must be from 0 to "
                f"{MAX_SLICE_LEAD_MS} milliseconds (half the shortest interval)"
            )
        grace = (
            None
            if self.session_down_grace.lower() == "never"
            else _period(self.session_down_grace, "trading.session_down_grace")
        )
        return TradingSettings(
            price_tolerance_bps=tolerance,
            max_book_age=market_data.book_age,
            complete_at_end=vwap.complete_at_end,
            default_safety_threshold=vwap.threshold,
            session_down_grace=grace,
            max_consecutive_rejects=self.max_consecutive_rejects,
            reconcile_timeout=_period(self.reconcile_timeout, "trading.reconcile_timeout"),
            slice_lead=timedelta(milliseconds=self.slice_lead_ms),
        )


@attrs.frozen
class RiskSymbolConfig:
    """Caps for one symbol: ``symbol_id`` (a CoinAPI symbol id: one venue) or ``symbol`` and
    ``symbol_type`` (every venue listing it). Caps left out fall back on [risk]'s."""

    symbol_id: str | None = None
    symbol: str | None = None
    symbol_type: str | None = None
    max_child_quantity: str | None = None
    max_child_notional: str | None = None
    max_order_amount: str | None = None

    def limits(self, key: str) -> SymbolLimits:
        """These caps as the domain's value; raises ConfigError naming ``key``."""
        if (self.symbol_id is None) == (self.symbol is None or self.symbol_type is None):
            raise ConfigError(f"{key} needs either symbol_id, or symbol and symbol_type")
        return SymbolLimits(
            symbol_id=self.symbol_id,
            symbol=self.symbol,
            symbol_type=self.symbol_type,
            **{
                name: _positive(getattr(self, name), f"{key}.{name}")
                for name in ("max_child_quantity", "max_child_notional", "max_order_amount")
            },
        )


@attrs.frozen
class RiskConfig:
    """Pre-trade limits on smart orders and child orders; "none" (or leaving a cap out) sets
    no limit. Reloadable: ``RiskGate.update(config.risk.limits())``."""

    max_order_amount: str = "none"
    max_child_quantity: str = "none"
    max_child_notional: str = "none"
    price_collar_bps: str = "1000"
    child_orders_per_second: str = "100"
    child_order_burst: int = 100
    symbols: tuple[RiskSymbolConfig, ...] = ()

    def limits(self) -> RiskLimits:
        """The engine's risk limits; raises ConfigError for a bad value."""
        if self.child_order_burst < 1:
            raise ConfigError("risk.child_order_burst must be at least 1")
        return RiskLimits(
            max_order_amount=_positive(self.max_order_amount, "risk.max_order_amount"),
            max_child_quantity=_positive(self.max_child_quantity, "risk.max_child_quantity"),
            max_child_notional=_positive(self.max_child_notional, "risk.max_child_notional"),
            price_collar_bps=_positive(self.price_collar_bps, "risk.price_collar_bps"),
            child_orders_per_second=_positive(
                self.child_orders_per_second, "risk.child_orders_per_second"
            ),
            child_order_burst=self.child_order_burst,
            symbols=tuple(
                caps.limits(f"risk.symbols[{number}]") for number, caps in enumerate(self.symbols)
            ),
        )


def _positive(text: str | None, key: str) -> Decimal | None:
    """A positive decimal limit, or None for no limit (left out, or "none")."""
    if text is None or text.strip().lower() == "none":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0:
        raise ConfigError(f'{key} {text!r} must be a positive number, or "none" for no limit')
    return value


def _period(text: str, key: str) -> timedelta:
    try:
        return Period.parse(text, key).timedelta
    except ProtocolError as error:
        raise ConfigError(error.message) from None


@attrs.frozen
class ServiceConfig:
    """The daemon as a service: how long it waits for the EMS before it says it is ready, and
    how long a graceful stop may take before the process gives up and exits."""

    startup_grace: str = "30SEC"
    stop_timeout: str = "20SEC"

    @property
    def startup_grace_period(self) -> timedelta:
        """``startup_grace`` as a timedelta; raises ConfigError for a bad value."""
        return _period(self.startup_grace, "service.startup_grace")

    @property
    def stop_timeout_period(self) -> timedelta:
        """``stop_timeout`` as a timedelta; raises ConfigError for a bad value."""
        return _period(self.stop_timeout, "service.stop_timeout")


@attrs.frozen
class Config:
    """The whole configuration."""

    data_dir: Path = Path("data")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    instruments_file: Path | None = None
    api: ApiConfig = ApiConfig()
    ems: EmsConfig = EmsConfig()
    market_data: MarketDataConfig = MarketDataConfig()
    order_entry: OrderEntryConfig = OrderEntryConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    trading: TradingConfig = TradingConfig()
    vwap: VwapConfig = VwapConfig()
    risk: RiskConfig = RiskConfig()
    service: ServiceConfig = ServiceConfig()

    def check(self) -> None:
        """Raise ConfigError for a value that has the right type but cannot be used."""
        _ = self.service.startup_grace_period, self.service.stop_timeout_period
        self.api.check()
        self.ems.check()
        self.simulator.check()
        self.market_data.check()
        self.order_entry.check()
        self.trading_settings()
        self.risk.limits()
        if self.needs_simulator:
            self.simulator_market()

    def trading_settings(self) -> TradingSettings:
        """The engine's settings from [trading], [market_data] and [vwap]."""
        return self.trading.settings(self.market_data, self.vwap)

    @property
    def needs_simulator(self) -> bool:
        """True when the EMS or the market data is the bundled simulator, run in process."""
        return self.ems.mode == "embedded" or self.market_data.mode == "embedded"

    def simulator_market(self) -> MarketParameters:
        """The simulator's market: ``simulator.market_file``, or the one shipped in the package."""
        path = self.simulator.market_file
        try:
            if path is None:
                return default_market()
            return MarketParameters.from_toml(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"simulator.market_file cannot be read: {error}") from None
        except SimulatorConfigError as error:
            raise ConfigError(f"simulator.market_file: {error}") from None

    def instruments(self) -> InstrumentTable:
        """The instrument table: the configured file, or the one shipped in the package."""
        try:
            if self.instruments_file is None:
                return InstrumentTable.from_toml(read_text("instruments.toml"))
            return InstrumentTable.from_toml(self.instruments_file.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"instruments_file cannot be read: {error}") from None
        except InstrumentError as error:
            raise ConfigError(f"instruments_file: {error}") from None


_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_structure_hook(Path, lambda value, _: Path(value))


def load_config(path: Path | None) -> Config:
    """The configuration in ``path``, or the embedded default when None."""
    if path is None:
        return Config()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    return config_from_dict(document, str(path))


def config_from_dict(document: dict[str, object], source: str = "config") -> Config:
    """Structure and check a decoded TOML document."""
    try:
        config = _converter.structure(document, Config)
    except cattrs.BaseValidationError as error:
        problems = "; ".join(cattrs.transform_error(error, path="config"))
        raise ConfigError(f"{source}: {problems}") from None
    except (ValueError, ConfigError) as error:
        raise ConfigError(f"{source}: {error}") from None
    config.check()
    return config
