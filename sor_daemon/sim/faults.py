"""The simulator's fault modes: switches the FIX end reads on every send, settable at run time.

The daemon's recovery is tested against an EMS that misbehaves on demand. ``FaultSwitches`` is
one frozen state of the switches (the settings give the first); ``Faults`` holds the current
one behind a lock, because the HTTP endpoint (the Trio thread) flips switches while quickfix's
connection thread and the ticker's thread send. A change applies from the next message on.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import attrs

from sor_daemon.sim.settings import SimulatorSettings


class FaultSwitchError(ValueError):
    """A change names a switch that does not exist, or gives one a value that is not a boolean."""


@attrs.frozen
class FaultSwitches:
    """Which faults are on.

    ``duplicate_reports`` sends every ExecutionReport twice: the copy has the same content
    (ExecID, CumQty) in a new message (a new MsgSeqNum). ``poss_dup_reports`` follows every
    ExecutionReport with a copy flagged PossDupFlag (43=Y) whose OrigSendingTime (122) is the
    original's SendingTime, as an EMS replaying its reports sends them. With
    ``answer_status_requests`` off, OrderStatusRequests (35=H) go unanswered.
    """

    duplicate_reports: bool = False
    poss_dup_reports: bool = False
    answer_status_requests: bool = True

    @classmethod
    def from_settings(cls, settings: SimulatorSettings) -> FaultSwitches:
        """The switches a simulator starts with."""
        return cls(
            duplicate_reports=settings.duplicate_reports,
            poss_dup_reports=settings.poss_dup_reports,
            answer_status_requests=settings.answer_status_requests,
        )

    def as_json(self) -> dict[str, bool]:
        """``{switch: on}`` for every switch."""
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

        Raises ``FaultSwitchError`` for a name that is not a switch or a value that is not a
        boolean (``1`` or ``"true"`` are refused: a test that means off must not get on).
        """
        unknown = sorted(set(changes) - set(SWITCH_NAMES))
        if unknown:
            raise FaultSwitchError(
                f"unknown fault switch {', '.join(unknown)}; the switches are "
                f"{', '.join(SWITCH_NAMES)}"
            )
        for name, value in changes.items():
            if not isinstance(value, bool):
                raise FaultSwitchError(f"{name} must be true or false, not {value!r}")
        with self._lock:
            self._switches = attrs.evolve(self._switches, **changes)
            return self._switches
