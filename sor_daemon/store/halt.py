"""The kill switch's state on disk, so a halt before a crash is still a halt after the restart.

One small JSON file in the data directory (``halt.json``): present while trading is halted,
absent otherwise. It is written to a temporary file, synced and renamed, so a crash leaves either
the old state or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import attrs


@attrs.frozen
class HaltState:
    """Why and since when trading is halted."""

    reason: str
    since: datetime


class HaltFile:
    """Where the halt is kept; ``None`` as the path keeps it in memory only (tests)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path

    def load(self) -> HaltState | None:
        """The halt in force, or None; a file that cannot be read is a clear error."""
        if self._path is None or not self._path.exists():
            return None
        try:
            body = json.loads(self._path.read_text(encoding="utf-8"))
            return HaltState(body["reason"], datetime.fromisoformat(body["since"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise RuntimeError(
                f"the halt state in {self._path} cannot be read ({error}); fix or delete the "
                "file (deleting it lifts the halt)"
            ) from None

    def save(self, state: HaltState | None) -> None:
        """Make ``state`` durable (None lifts the halt) before the caller acts on it."""
        if self._path is None:
            return
        if state is None:
            self._path.unlink(missing_ok=True)
            _sync_directory(self._path.parent)
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        body = json.dumps({"reason": state.reason, "since": state.since.isoformat()})
        with temporary.open("w", encoding="utf-8") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self._path)
        _sync_directory(self._path.parent)


def _sync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
