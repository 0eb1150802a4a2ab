"""The tests' one port picker (tests/harness/loopback.py): free when picked, and drawn from where
neither a bind to port 0 nor an outgoing connection's source port can take it before the server
that was told it binds it."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.harness.loopback import free_port


def test_a_picked_port_is_free_and_below_the_ephemeral_range() -> None:
    low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = {free_port() for _ in range(20)}
    assert all(1024 <= p < low for p in ports) and not any(low <= p <= high for p in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
