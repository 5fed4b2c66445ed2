"""What the simulator is told: its network ends, its FIX identity, its fault modes and its market.

``SimulatorSettings`` is the one object ``serve_simulator`` takes. ``MarketParameters`` describes
the simulated market (the walk of every underlying, each venue's book shape, the trade tape and
its intraday volume profile, the initial account balances); ``sor_daemon/data/simulator.toml``
ships the default, parsed by ``MarketParameters.from_toml``.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from sor_daemon.data import read_text
from sor_daemon.domain.instruments import InstrumentTable
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.periods import Period


class SimulatorConfigError(ValueError):
    """The simulator's market parameters are wrong; the message says where."""


@attrs.frozen
class UnderlyingParameters:
    """The random walk one base asset follows, and how it trades.

    ``trade_rate`` is how many background trades a second print on a venue of volume share 1
    at the profile's average weight; ``trade_size`` is a typical trade's size in the base asset.
    """

    base: str
    reference_price: Decimal
    volatility_bps: Decimal
    level_size: Decimal
    trade_rate: Decimal
    trade_size: Decimal


@attrs.frozen
class VenueParameters:
    """How one venue quotes every underlying (where, how wide, how deep) and its share of trades."""

    offset_bps: Decimal
    spread_bps: Decimal
    level_gap_bps: Decimal
    depth: Decimal
    volume_share: Decimal


@attrs.frozen
class TapeParameters:
    """The trade tape: the intraday volume profile, its history and its retention.

    ``profile`` holds relative weights of equal slices of ``profile_period`` (24 hourly weights
    over ``1DAY`` by default), counted from the epoch in UTC: the trade rate at a moment is the
    base rate times the weight of its slice over the mean weight. ``backfill`` is how much
    history the tape makes up before the simulator's start; ``retention`` how long one-second
    buckets are kept for OHLCV.
    """

    profile: tuple[Decimal, ...]
    profile_period: timedelta
    backfill: timedelta
    retention: timedelta


@attrs.frozen
class MarketParameters:
    """The whole simulated market; see ``sor_daemon/data/simulator.toml`` for each knob."""

    step: timedelta
    levels: int
    size_growth: Decimal
    max_catch_up_steps: int
    underlyings: dict[str, UnderlyingParameters]
    venues: dict[str, VenueParameters]
    default_venue: VenueParameters
    initial_balances: dict[str, Decimal]
    tape: TapeParameters

    @classmethod
    def from_toml(cls, text: str) -> MarketParameters:
        """Parse a document shaped like ``sor_daemon/data/simulator.toml``."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SimulatorConfigError(
                f"the market parameters are not valid TOML: {error}"
            ) from None
        market = _table(document, "market")
        underlyings = {}
        for index, entry in enumerate(_list(document, "underlying")):
            where = f"underlying #{index + 1}"
            base = str(_get(entry, "base", where)).upper()
            underlyings[base] = UnderlyingParameters(
                base=base,
                reference_price=_positive(entry, "reference_price", where),
                volatility_bps=_decimal(entry, "volatility_bps", where),
                level_size=_positive(entry, "level_size", where),
                trade_rate=_non_negative(entry, "trade_rate", where),
                trade_size=_positive(entry, "trade_size", where),
            )
        venues = {}
        for index, entry in enumerate(_list(document, "venue")):
            where = f"venue #{index + 1}"
            venues[str(_get(entry, "exchange", where)).upper()] = _venue(entry, where)
        initial = _table(document, "initial_balances")
        balances = {
            asset.upper(): _decimal(initial, asset, "initial_balances") for asset in initial
        }
        return cls(
            step=timedelta(milliseconds=_positive_int(market, "step_ms", "market")),
            levels=_positive_int(market, "levels", "market"),
            size_growth=_decimal(market, "size_growth", "market"),
            max_catch_up_steps=_positive_int(market, "max_catch_up_steps", "market"),
            underlyings=underlyings,
            venues=venues,
            default_venue=_venue(_table(document, "default_venue"), "default_venue"),
            initial_balances=balances,
            tape=_tape(_table(document, "tape")),
        )

    def venue(self, exchange: str) -> VenueParameters:
        """The parameters of one venue, or the defaults when it has none of its own."""
        return self.venues.get(exchange.upper(), self.default_venue)

    def check_covers(self, instruments: InstrumentTable) -> None:
        """Fail early when an instrument's base asset has no walk to follow."""
        missing = sorted({i.base for i in instruments} - set(self.underlyings))
        if missing:
            raise SimulatorConfigError(
                f"the market parameters have no [[underlying]] for {', '.join(missing)}; "
                "add a reference price for each"
            )


def default_instruments() -> InstrumentTable:
    """The instrument table shipped with the package."""
    return InstrumentTable.from_toml(read_text("instruments.toml"))


def default_market() -> MarketParameters:
    """The market parameters shipped with the package."""
    return MarketParameters.from_toml(read_text("simulator.toml"))


@attrs.frozen
class SimulatorSettings:
    """Everything ``serve_simulator`` needs.

    Port 0 picks a free port. ``data_dir`` receives the FIX session settings, the dialect's data
    dictionary, the FileStore and the FileLog. ``lean_reports`` leaves LastQty, LastPx and AvgPx
    out of every ExecutionReport, as CoinAPI documents them. ``api_key``, when set, is required
    in the ``X-CoinAPI-Key`` header of every HTTP request.

    The fault modes for recovery tests start as set here and can be switched at run time (see
    ``sor_daemon.sim.faults``): ``duplicate_reports`` sends every ExecutionReport twice,
    ``poss_dup_reports`` follows each with a PossDupFlag=Y copy, ``answer_status_requests=False``
    ignores OrderStatusRequests.

    The market-data FIX acceptor listens on ``md_port`` and accepts one session: SenderCompID
    ``COINAPI_V2``, TargetCompID ``md_api_key`` (the key the daemon logs on with).

    ``host`` is where HTTP binds and what the handle reports for FIX: quickfix 1.16 has no
    setting for the address its acceptor binds, so the FIX port listens on every interface.
    Its ``AllowedRemoteAddresses`` is not used either: in 1.16 a refused connection leaves the
    session registered (or even logged on) behind it. Firewall the port where that matters.
    quickfix registers sessions process-wide by SessionID, so two simulators in one process
    need different comp ids and market-data keys.

    ``tls_cert`` and ``tls_key`` (PEM, the key unencrypted) put the EMS session behind TLS, as
    CoinAPI's managed cloud does: its acceptor is then quickfix's ``SSLSocketAcceptor`` and
    requires a client certificate that chains to ``tls_client_ca``. All three or none; the
    market-data session stays plain.
    """

    data_dir: Path = attrs.field(converter=Path)
    host: str = "127.0.0.1"
    fix_port: int = 3401
    http_port: int = 3402
    md_port: int = 3403
    md_api_key: str = "sim-market-data"
    seed: int = 1
    sender_comp_id: str = "CoinAPI.OEML.FIX"
    target_comp_id: str = "OMS.FIX.CLIENT"
    reset_on_logon: bool = True
    reset_on_logout: bool = True
    reset_on_disconnect: bool = True
    lean_reports: bool = False
    duplicate_reports: bool = False
    poss_dup_reports: bool = False
    answer_status_requests: bool = True
    api_key: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    instruments: InstrumentTable = attrs.field(factory=default_instruments)
    market: MarketParameters = attrs.field(factory=default_market)

    def __attrs_post_init__(self) -> None:
        tls = (self.tls_cert, self.tls_key, self.tls_client_ca)
        if any(path is not None for path in tls) and any(path is None for path in tls):
            raise SimulatorConfigError(
                "tls_cert, tls_key and tls_client_ca go together: set all three or none"
            )

    @property
    def tls(self) -> bool:
        """True when the EMS session runs over TLS with client certificates."""
        return self.tls_cert is not None


def _venue(entry: dict[str, Any], where: str) -> VenueParameters:
    return VenueParameters(
        offset_bps=_decimal(entry, "offset_bps", where),
        spread_bps=_positive(entry, "spread_bps", where),
        level_gap_bps=_positive(entry, "level_gap_bps", where),
        depth=_positive(entry, "depth", where),
        volume_share=_non_negative(entry, "volume_share", where),
    )


def _tape(entry: dict[str, Any]) -> TapeParameters:
    raw = _get(entry, "profile", "tape")
    if not isinstance(raw, list) or not raw:
        raise SimulatorConfigError("tape: profile must be a non-empty list of weights")
    weights = tuple(
        _to_decimal(weight, f"tape: profile weight #{number}")
        for number, weight in enumerate(raw, start=1)
    )
    if any(weight < 0 for weight in weights):
        raise SimulatorConfigError("tape: profile weights must not be negative")
    if not any(weights):
        raise SimulatorConfigError("tape: profile needs at least one weight above zero")
    return TapeParameters(
        profile=weights,
        profile_period=_period(entry, "profile_period", "tape"),
        backfill=_period(entry, "backfill", "tape"),
        retention=_period(entry, "retention", "tape"),
    )


def _table(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise SimulatorConfigError(f"the market parameters lack a [{name}] table")
    return value


def _list(document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = document.get(name)
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise SimulatorConfigError(f"the market parameters lack [[{name}]] entries")
    return value


def _get(entry: dict[str, Any], name: str, where: str) -> Any:
    if name not in entry:
        raise SimulatorConfigError(f"{where} lacks {name}")
    return entry[name]


def _decimal(entry: dict[str, Any], name: str, where: str) -> Decimal:
    return _to_decimal(_get(entry, name, where), f"{where}: {name}")


def _to_decimal(raw: object, what: str) -> Decimal:
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        raise SimulatorConfigError(f"{what} {raw!r} is not a number") from None
    if not number.is_finite():
        raise SimulatorConfigError(f"{what} must be a finite number")
    return number


def _positive(entry: dict[str, Any], name: str, where: str) -> Decimal:
    number = _decimal(entry, name, where)
    if number <= 0:
        raise SimulatorConfigError(f"{where}: {name} must be positive")
    return number


def _non_negative(entry: dict[str, Any], name: str, where: str) -> Decimal:
    number = _decimal(entry, name, where)
    if number < 0:
        raise SimulatorConfigError(f"{where}: {name} must not be negative")
    return number


def _period(entry: dict[str, Any], name: str, where: str) -> timedelta:
    try:
        return Period.parse(_get(entry, name, where), f"{where}: {name}").timedelta
    except ProtocolError as error:
        raise SimulatorConfigError(error.message) from None


def _positive_int(entry: dict[str, Any], name: str, where: str) -> int:
    raw = _get(entry, name, where)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
        raise SimulatorConfigError(f"{where}: {name} must be a positive integer")
    return raw
