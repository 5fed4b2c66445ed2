"""The notify protocol against real datagram sockets standing in for systemd."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from sor_daemon.ops.notify import Notifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound at a path, as systemd's notify socket."""
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(5)
        yield sock, path


def test_ready_status_stopping_reach_a_path_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": path})
    notifier.status("starting")
    notifier.ready("ready: 0 running orders")
    notifier.stopping()
    received = [sock.recv(4096).decode() for _ in range(3)]
    assert received == [
        "STATUS=starting\n",
        "READY=1\nSTATUS=ready: 0 running orders\n",
        "STOPPING=1\nSTATUS=stopping\n",
    ]


def test_abstract_socket() -> None:
    name = f"sor-daemon-test-{uuid.uuid4()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        Notifier.from_environment({"NOTIFY_SOCKET": "@" + name}).notify(WATCHDOG="1")
        assert sock.recv(4096) == b"WATCHDOG=1\n"


def test_outside_systemd_nothing_is_sent_and_nothing_fails() -> None:
    notifier = Notifier.from_environment({"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled
    assert notifier.watchdog_timeout is None
    notifier.ready("ready")


def test_a_vanished_socket_is_logged_not_raised(tmp_path: Path) -> None:
    Notifier(str(tmp_path / "gone.sock")).notify(READY="1")


def test_watchdog_only_for_this_process(listener: tuple[socket.socket, str]) -> None:
    _, path = listener
    mine = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier.from_environment(mine).watchdog_timeout == timedelta(seconds=4)
    other = mine | {"WATCHDOG_PID": str(os.getpid() + 1)}
    assert Notifier.from_environment(other).watchdog_timeout is None


async def test_keep_alive_pings_at_half_the_timeout(
    listener: tuple[socket.socket, str], autojump_clock: object
) -> None:
    import trio

    sock, path = listener
    notifier = Notifier(path, timedelta(seconds=10))
    with trio.move_on_after(12):
        await notifier.keep_alive()
    pings = [sock.recv(4096) for _ in range(3)]
    assert pings == [b"WATCHDOG=1\n"] * 3
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(4096)


def test_a_service_manager_that_stopped_reading_never_blocks(
    listener: tuple[socket.socket, str],
) -> None:
    _, path = listener
    notifier = Notifier(path)
    for _ in range(2000):
        notifier.notify(WATCHDOG="1")
