"""Where a service's replicas are: a comma-separated list of host:port targets, each host an address or
a DNS name that may resolve to several (a Kubernetes headless Service resolves to its ready pods)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """One entry of the list: a host (address or name) and a port."""

    host: str
    port: int

    @property
    def is_address(self) -> bool:
        """Whether the host is an IP address, which needs no resolving."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def parse_targets(spec: str, setting: str) -> list[Target]:
    """The targets of `spec` ("host:port[,host:port...]", gRPC's "dns:///" prefix allowed, IPv6 hosts in
    brackets); a ValueError naming `setting` when an entry is not host:port."""
    targets = []
    for raw in spec.split(","):
        entry = raw.strip().removeprefix("dns:///")
        host, _, port = entry.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{setting}: {raw.strip()!r} is not host:port")
        targets.append(Target(host, int(port)))
    return targets


def address(host: str, port: int) -> str:
    """A gRPC target for one address (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# The answers that say a name has no addresses (a headless Service without ready pods), as opposed to
# a resolver that failed to answer, after which the replicas known before are kept.
_NO_ADDRESSES = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


async def resolve(targets: list[Target]) -> set[str]:
    """Every address the targets stand for now, as gRPC targets; a name without addresses contributes
    none. Raises OSError when a resolver does not answer."""
    loop = asyncio.get_running_loop()
    found: set[str] = set()
    for target in targets:
        if target.is_address:
            found.add(address(target.host, target.port))
            continue
        try:
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            if error.errno in _NO_ADDRESSES:
                continue
            raise
        found.update(address(str(info[4][0]), target.port) for info in infos)
    return found
