"""What every benchmark shares: outcomes with ratios and goals, distributions, memory, results.

Absolute times on a shared two-core machine are noise; ratios to a baseline measured in the same
run hold. So an ``Outcome`` carries the daemon's figures, the baseline's figures and the ratios
between them, and each goal of the benchmark with whether this run met it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
from prometheus_client.parser import text_string_to_metric_families


class BenchmarkFailed(RuntimeError):
    """The benchmark did not work (lost messages, a process that did not start): not a slow
    result, a broken one."""


@attrs.frozen
class Goal:
    """One of the issue's goals, and whether this run met it."""

    text: str
    met: bool


@attrs.frozen
class Outcome:
    """A benchmark's result: figures through the daemon, the baseline's, and their ratios."""

    name: str
    figures: Mapping[str, float]
    baseline: Mapping[str, float] = attrs.field(factory=dict)
    ratios: Mapping[str, float] = attrs.field(factory=dict)
    goals: tuple[Goal, ...] = ()
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The outcome as plain JSON values."""
        return {
            "figures": dict(self.figures),
            "baseline": dict(self.baseline),
            "ratios": dict(self.ratios),
            "goals": [{"text": goal.text, "met": goal.met} for goal in self.goals],
            "notes": list(self.notes),
        }

    def render(self) -> str:
        """The outcome as a few lines for a person reading the terminal."""
        lines = [f"== {self.name}"]
        for title, values in (
            ("daemon", self.figures),
            ("baseline", self.baseline),
            ("ratio", self.ratios),
        ):
            if values:
                shown = ", ".join(f"{key} {_number(value)}" for key, value in values.items())
                lines.append(f"  {title:<9} {shown}")
        lines += [f"  goal      {'met   ' if g.met else 'MISSED'} {g.text}" for g in self.goals]
        lines += [f"  note      {note}" for note in self.notes]
        return "\n".join(lines)


def distribution(values: Iterable[float], prefix: str = "") -> dict[str, float]:
    """p50, p99 and max of ``values`` (nearest rank), keyed ``<prefix>p50`` and so on."""
    ordered = sorted(values)
    if not ordered:
        raise BenchmarkFailed(f"no samples for {prefix or 'a distribution'}")

    def rank(fraction: float) -> float:
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]

    return {
        f"{prefix}p50": rank(0.50),
        f"{prefix}p99": rank(0.99),
        f"{prefix}max": ordered[-1],
        f"{prefix}count": float(len(ordered)),
    }


def ratio(measured: float, baseline: float) -> float:
    """``measured / baseline``, or infinity when the baseline is zero."""
    return measured / baseline if baseline else math.inf


def resident_kib(pid: int) -> int:
    """The resident set size of process ``pid`` in KiB (VmRSS in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchmarkFailed(f"process {pid} reports no VmRSS")


def cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` and the processes it started (the daemon's journal writer
    and EMS session) have used so far, all their threads, user and system.

    Read from /proc in clock ticks (10 ms here). CPU time per unit of work holds far better than
    wall-clock rates on a shared machine: another process on the cores slows the daemon, but
    hardly changes what each child order costs it.
    """
    return _own_cpu_seconds(pid) + sum(_cpu_seconds_if_running(child) for child in _children(pid))


def cpu_seconds_by_process(pid: int) -> dict[str, float]:
    """``cpu_seconds(pid)`` split by process: ``own`` for process ``pid`` itself, and each
    process it started under the module it runs (``python -m MODULE``: the daemon's
    ``sor_daemon.store.writer`` and ``sor_daemon.fix.ems_session``), or its program's name."""
    split = {"own": _own_cpu_seconds(pid)}
    for child in _children(pid):
        with contextlib.suppress(FileNotFoundError):
            name = _program(child)
            split[name] = split.get(name, 0.0) + cpu_seconds(child)
    return split


def _own_cpu_seconds(pid: int) -> float:
    """The CPU time of process ``pid`` alone, all its threads, user and system."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])
    return (user + system) / os.sysconf("SC_CLK_TCK")


def _program(pid: int) -> str:
    """What process ``pid`` runs: the module after ``-m``, else its program's file name."""
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"-m" in arguments[:-1]:
        return arguments[arguments.index(b"-m") + 1].decode()
    return Path(arguments[0].decode()).name


def _cpu_seconds_if_running(pid: int) -> float:
    """``cpu_seconds(pid)``, or 0 for a process that ended meanwhile."""
    try:
        return cpu_seconds(pid)
    except FileNotFoundError:
        return 0.0


def _children(pid: int) -> list[int]:
    """The processes ``pid``'s threads started (a thread that ended meanwhile has none)."""
    children: list[int] = []
    for thread in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            children += [int(child) for child in (thread / "children").read_text().split()]
    return children


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def commit() -> str:
    """The commit measured (with ``-dirty`` when the work tree has changes), or ``unknown``."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return described.stdout.strip()


def write_results(path: Path, outcomes: Iterable[Outcome], *, smoke: bool) -> None:
    """Write the run as JSON, so that runs can be compared between commits."""
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "smoke": smoke,
        "machine": machine(),
        "benchmarks": {outcome.name: outcome.as_json() for outcome in outcomes},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _number(value: float) -> str:
    if math.isinf(value):
        return "inf"
    if value == int(value) and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def gc_pauses(api_url: str) -> dict[str, float]:
    """The daemon's garbage-collector pauses so far, from its ``/metrics``
    (``sor_gc_pause_seconds``): how many, their seconds in all, and how many took over 100 ms."""
    text = httpx.get(f"{api_url}/metrics", timeout=10).text
    samples = [
        sample
        for family in text_string_to_metric_families(text)
        if family.name == "sor_gc_pause_seconds"
        for sample in family.samples
    ]
    count = sum(s.value for s in samples if s.name.endswith("_count"))
    within = sum(s.value for s in samples if s.name.endswith("_bucket") and s.labels["le"] == "0.1")
    return {
        "gc_pauses": count,
        "gc_pause_seconds": sum(s.value for s in samples if s.name.endswith("_sum")),
        "gc_pauses_over_100ms": count - within,
    }
