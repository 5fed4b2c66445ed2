"""Fixtures for end-to-end tests: one daemon on the embedded default serves the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.processes import DaemonProcess, running_daemon


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """One daemon on the embedded default for the whole session."""
    with running_daemon(tmp_path_factory.mktemp("daemon")) as process:
        yield process
