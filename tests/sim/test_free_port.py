"""Ports picked for listeners bound later: free, and out of the way of outgoing connections."""

from __future__ import annotations

import socket
from pathlib import Path

from sor_daemon.sim.service import FIRST_PICKED_PORT, free_port


def test_a_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port("127.0.0.1") for _ in range(20)}
    assert all(FIRST_PICKED_PORT <= port < ephemeral_start for port in ports)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind(("127.0.0.1", port))


def test_a_process_is_never_handed_the_same_port_twice() -> None:
    picked = [free_port("127.0.0.1") for _ in range(500)]
    assert len(set(picked)) == len(picked)
