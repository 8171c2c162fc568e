"""free_port hands out ports a server can bind, that client connections cannot take first."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from tuneway.core.testing import processes
from tuneway.core.testing.processes import free_port


def _ephemeral_range() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_ports_lie_outside_the_range_outgoing_connections_take_theirs_from() -> None:
    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(200)]
    assert not [port for port in ports if low <= port <= high]


def test_ports_are_never_handed_out_twice_before_they_are_bound() -> None:
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)


def test_a_port_something_listens_on_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]

        class TakenFirst(random.Random):
            """Offers the taken port first, then whatever comes."""

            offered = False

            def randrange(self, *_: object) -> int:  # type: ignore[override]
                if not self.offered:
                    self.offered = True
                    return taken
                return super().randrange(15000, 32000)

        monkeypatch.setattr(processes, "_pick", TakenFirst())
        port = free_port()
        assert port != taken
        with socket.socket() as server:  # what it hands out a server can bind
            server.bind(("127.0.0.1", port))
