"""The CPU time of a process and of those it started, told apart by what each runs."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.harness import cpu_seconds, cpu_seconds_by_process


def test_each_started_process_is_named_by_its_module() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "json.tool"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    ) as child:
        try:
            split = cpu_seconds_by_process(os.getpid())
            child_alone = cpu_seconds(child.pid)
        finally:
            child.communicate(b"{}")
    assert 0 <= split["json.tool"] <= child_alone
    assert split["own"] > 0
