"""The daemon's configuration: a TOML file (see ``sor-daemon.example.toml``), all of it optional.

With no file at all the daemon runs on its embedded default: the bundled EMS simulator in the
same process, FIX over loopback, the journal under ``./data``, the API on 127.0.0.1:8080. Every
key is checked on load; a typo or a bad value stops the start with a sentence saying which key.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import attrs
import cattrs

from sor_daemon.data import read_text
from sor_daemon.domain.instruments import InstrumentError, InstrumentTable
from sor_daemon.engine.settings import TradingSettings
from sor_daemon.fix.ems import EmsSettings
from sor_daemon.fix.market_data import MarketDataSettings
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.periods import Period
from sor_daemon.sim.settings import MarketParameters, SimulatorConfigError, default_market


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the fix."""


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as a host and a port number."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"listen address {text!r} is not HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


@attrs.frozen
class ApiConfig:
    """Where REST and the WebSocket feed listen."""

    listen: str = "127.0.0.1:8080"


@attrs.frozen
class EmsConfig(EmsSettings):
    """The EMS: embedded (the bundled simulator, in process) or remote (the session's host and
    port), and its REST API for the account."""

    mode: Literal["embedded", "remote"] = "embedded"
    rest_url: str = "http://127.0.0.1:3402"
    api_key: str | None = None


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


@attrs.frozen
class TradingConfig:
    """How child orders are priced and how patient the engine is."""

    price_tolerance_bps: str = "10"
    session_down_grace: str = "30SEC"
    max_consecutive_rejects: int = 3
    reconcile_timeout: str = "5SEC"

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
        )


def _period(text: str, key: str) -> timedelta:
    try:
        return Period.parse(text, key).timedelta
    except ProtocolError as error:
        raise ConfigError(error.message) from None


@attrs.frozen
class Config:
    """The whole configuration."""

    data_dir: Path = Path("data")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    instruments_file: Path | None = None
    api: ApiConfig = ApiConfig()
    ems: EmsConfig = EmsConfig()
    market_data: MarketDataConfig = MarketDataConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    trading: TradingConfig = TradingConfig()
    vwap: VwapConfig = VwapConfig()

    def check(self) -> None:
        """Raise ConfigError for a value that has the right type but cannot be used."""
        try:
            parse_listen(self.api.listen)
        except ConfigError as error:
            raise ConfigError(f"api.listen: {error}") from None
        self.market_data.check()
        self.trading_settings()
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
