"""The CPU time of a process and of those it started, told apart by what each runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.harness import cpu_seconds, cpu_seconds_by_process

MODULE = "json.tool"


def runs_the_module(pid: int) -> bool:
    """True once process ``pid`` runs ``python -m MODULE`` (it has exec'd)."""
    return MODULE.encode() in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")


def test_each_started_process_is_named_by_its_module() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", MODULE], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    ) as child:
        try:
            while not runs_the_module(child.pid):
                os.sched_yield()
            split = cpu_seconds_by_process(os.getpid())
            child_alone = cpu_seconds(child.pid)
        finally:
            child.communicate(b"{}")
    assert MODULE in split, split
    assert 0 <= split[MODULE] <= child_alone
    assert split["own"] > 0
