"""The EMS session's process runs as batch work, so that waking it never preempts the daemon's
Trio thread (``interpreter.defer_to_the_daemon``); the daemon and the journal's writer, whose
commits fills wait for, stay ordinary processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.processes import running_daemon

SESSION, WRITER = "sor_daemon.fix.ems_session", "sor_daemon.store.writer"

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling")


def children_of(pid: int) -> dict[str, int]:
    """The module each Python child process of ``pid`` runs (``-m``), and its pid."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
            if "-m" in argv:
                found[argv[argv.index("-m") + 1]] = int(child)
    return found


def policies(pid: int) -> set[int]:
    """The scheduling policy of every thread of process ``pid``."""
    return {os.sched_getscheduler(int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()}


def test_the_ems_session_never_preempts_the_daemon(tmp_path: Path) -> None:
    with running_daemon(tmp_path) as daemon:
        helpers = children_of(daemon.pid)
        assert {SESSION, WRITER} <= set(helpers), helpers
        assert policies(helpers[SESSION]) == {os.SCHED_BATCH}
        assert policies(helpers[WRITER]) == {os.SCHED_OTHER}
        assert policies(daemon.pid) == {os.SCHED_OTHER}
