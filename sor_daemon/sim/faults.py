"""The simulator's fault modes: switches the FIX end reads on every send, settable at run time.

The daemon's recovery is tested against an EMS and a market-data server that misbehave on
demand. ``FaultSwitches`` is one frozen state of the switches (the settings give the first);
``Faults`` holds the current one behind a lock, because the HTTP endpoint (the Trio thread)
flips switches while quickfix's connection threads and the ticker's thread send. A change
applies from the next message (or request) on.

Most switches are booleans; ``ohlcv_throttle`` is a count that the OHLCV endpoints use up.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import attrs

from sor_daemon.sim.settings import SimulatorSettings


class FaultSwitchError(ValueError):
    """A change names a switch that does not exist, or gives one a value of the wrong kind."""


def _boolean(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise FaultSwitchError(f"{attribute.name} must be true or false, not {value!r}")


def _count(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FaultSwitchError(f"{attribute.name} must be a whole number >= 0, not {value!r}")


@attrs.frozen
class FaultSwitches:
    """Which faults are on.

    ``duplicate_reports`` sends every ExecutionReport twice: the copy has the same content
    (ExecID, CumQty) in a new message (a new MsgSeqNum). ``poss_dup_reports`` follows every
    ExecutionReport with a copy flagged PossDupFlag (43=Y) whose OrigSendingTime (122) is the
    original's SendingTime, as an EMS replaying its reports sends them. With
    ``answer_status_requests`` off, OrderStatusRequests (35=H) go unanswered.

    ``market_data_frozen`` stops every market-data snapshot (35=W) and update (35=X) while on,
    as a feed that hangs: quotes go stale. Trades printed meanwhile are not sent later, and when
    it goes off each subscriber's book is brought up to date from what it last got.
    ``ohlcv_throttle`` is how many of the next OHLCV requests are answered 429.
    """

    duplicate_reports: bool = attrs.field(default=False, validator=_boolean)
    poss_dup_reports: bool = attrs.field(default=False, validator=_boolean)
    answer_status_requests: bool = attrs.field(default=True, validator=_boolean)
    market_data_frozen: bool = attrs.field(default=False, validator=_boolean)
    ohlcv_throttle: int = attrs.field(default=0, validator=_count)

    @classmethod
    def from_settings(cls, settings: SimulatorSettings) -> FaultSwitches:
        """The switches a simulator starts with."""
        return cls(
            duplicate_reports=settings.duplicate_reports,
            poss_dup_reports=settings.poss_dup_reports,
            answer_status_requests=settings.answer_status_requests,
        )

    def as_json(self) -> dict[str, bool | int]:
        """``{switch: value}`` for every switch."""
        return attrs.asdict(self)


SWITCH_NAMES = tuple(field.name for field in attrs.fields(FaultSwitches))


class Faults:
    """The current fault switches, shared by the FIX end, the ticker and the HTTP endpoints."""

    def __init__(self, switches: FaultSwitches) -> None:
        self._lock = threading.Lock()
        self._switches = switches

    def current(self) -> FaultSwitches:
        """The switches now; read once per decision, so one message sees one consistent state."""
        with self._lock:
            return self._switches

    def change(self, changes: Mapping[str, object]) -> FaultSwitches:
        """Set the named switches and return the new state: all of them, or none.

        Raises ``FaultSwitchError`` for a name that is not a switch or a value of the wrong kind:
        a boolean switch takes only true or false (``1`` or ``"true"`` are refused: a test that
        means off must not get on), a count only a whole number >= 0.
        """
        unknown = sorted(set(changes) - set(SWITCH_NAMES))
        if unknown:
            raise FaultSwitchError(
                f"unknown fault switch {', '.join(unknown)}; the switches are "
                f"{', '.join(SWITCH_NAMES)}"
            )
        with self._lock:
            self._switches = attrs.evolve(self._switches, **changes)
            return self._switches

    def throttle_ohlcv(self) -> bool:
        """True when this OHLCV request must be throttled; it uses up one of ``ohlcv_throttle``."""
        with self._lock:
            remaining = self._switches.ohlcv_throttle
            if remaining:
                self._switches = attrs.evolve(self._switches, ohlcv_throttle=remaining - 1)
            return remaining > 0
