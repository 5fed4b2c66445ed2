"""Fixtures the FIX session tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from sor_daemon.sim.service import SimulatorHandle, serve_simulator
from sor_daemon.sim.settings import SimulatorSettings


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[SimulatorHandle]:
    """The bundled simulator, in this process, on ports of its own."""
    settings = SimulatorSettings(
        data_dir=tmp_path / "sim", fix_port=0, http_port=0, md_port=0, seed=7
    )
    async with trio.open_nursery() as nursery:
        yield await nursery.start(serve_simulator, settings)
        nursery.cancel_scope.cancel()
