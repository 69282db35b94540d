"""The chaos runs' servers listen on ports outside the kernel's ephemeral range: one killed and started
again on its port cannot find it taken as the local port of an outgoing connection meanwhile."""

from __future__ import annotations

import socket

from tests.chaos.stack import ephemeral_low, free_port


def test_free_ports_are_below_the_ephemeral_range_and_free() -> None:
    ports = {free_port() for _ in range(20)}
    assert all(20000 <= port < ephemeral_low() for port in ports), ports
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # nobody holds it
