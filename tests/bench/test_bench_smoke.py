"""Each benchmark's seconds-long smoke run works: it starts its processes, measures the daemon
and its baseline, and writes its figures. How fast is not asserted here; that is ``bench/``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS

SMOKE_LIMIT_SECONDS = 240
PROJECT = Path(__file__).parents[2]


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_smoke_run_measures_the_daemon_and_its_baseline(name: str, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench", "--smoke", "--only", name, "--out", str(results)]
    finished = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SMOKE_LIMIT_SECONDS,
        check=False,
        cwd=PROJECT,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    outcome = json.loads(results.read_text())["benchmarks"][name]
    assert outcome["figures"], outcome
    assert outcome["goals"], outcome
    figures = [*outcome["figures"].values(), *outcome["baseline"].values()]
    assert all(math.isfinite(value) and value >= 0 for value in figures), outcome
    assert f"== {name}" in finished.stdout
