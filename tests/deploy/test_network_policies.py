"""The network policies let each service reach what its settings say it calls, and nothing else."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.deploy.manifests import OVERLAYS, Manifests, Obj, label_match, manifests
from tests.deploy.services import process_of

# Which processes hold a NATS connection (the others only carry TUNEWAY_NATS_URL in the shared config):
# the gateway publishes analytics events, inference watches ADAPTERS, prompt-svc's invalidation, the
# trainer's queue and registry, analytics' consumer, the batch workers' BATCHES consumer.
NATS_CLIENTS = {
    "gateway",
    "inference",
    "prompt-svc",
    "trainer",
    "trainer-worker",
    "analytics",
    "batch-worker",
}
PORTS = {"nats": 4222, "postgres": 5432, "qdrant": 6333, "redis": 6379}

Edge = tuple[str, str, int]  # source workload, destination (workload name or "external"), port


def pod_labels(manifest: Manifests, name: str) -> dict[str, str]:
    for workload, template in manifest.pods():
        if workload["metadata"]["name"] == name:
            return dict(template["metadata"]["labels"])
    raise AssertionError(f"no workload {name}")


def container_ports(manifest: Manifests, name: str) -> dict[str, int]:
    for workload, template in manifest.pods():
        if workload["metadata"]["name"] == name:
            return {
                p["name"]: p["containerPort"]
                for c in template["spec"]["containers"]
                for p in c.get("ports", [])
            }
    return {}


def backend(manifest: Manifests, host: str, port: int) -> tuple[str, int] | None:
    """The workload behind Service `host` and the container port `port` reaches; None if external."""
    if "." in host or not manifest.has("Service", host):
        return None
    service = manifest.named("Service", host)
    entry = next(p for p in service["spec"]["ports"] if p["port"] == port)
    for workload, template in manifest.pods():
        if label_match({"matchLabels": service["spec"]["selector"]}, template["metadata"]["labels"]):
            target = entry.get("targetPort", port)
            name = workload["metadata"]["name"]
            return name, target if isinstance(target, int) else container_ports(manifest, name)[target]
    raise AssertionError(f"Service {host} selects no pod")


def used_edges(manifest: Manifests) -> set[Edge]:
    """Every connection a tuneway workload makes, from its settings and its configuration."""
    edges: set[Edge] = set()
    for workload, _, container, is_init in manifest.containers():
        process = process_of(container)
        if process is None or is_init:
            continue
        source = workload["metadata"]["name"]
        env = manifest.environment(container)
        wanted: list[tuple[str, int]] = []
        # A migration script opens the database only.
        calls = process.role != "script"
        for name, value in env.items():
            # A variable the process's settings class reads but the process never uses: no connection.
            if not process.reads(name):
                continue
            if calls and name.endswith("_TARGET") and value:
                for target in value.split(","):
                    host, port = target.strip().rsplit(":", 1)
                    wanted.append((host, int(port)))
            if calls and name.endswith("_REDIS_URL"):
                # A literal URL names its host; one in the Secret is the cluster's own Redis, outside.
                host = urlparse(value).hostname if value else "external.redis"
                wanted.append((host or "", PORTS["redis"]))
        if calls and env.get("RETRIEVER_QDRANT_URL"):
            wanted.append((env["RETRIEVER_QDRANT_URL"].split("://")[1].rsplit(":", 1)[0], PORTS["qdrant"]))
        if calls and source in NATS_CLIENTS:
            wanted.append((env["TUNEWAY_NATS_URL"].split("://")[1].rsplit(":", 1)[0], PORTS["nats"]))
        if any(name.endswith("DATABASE_URL") for name in env):
            # The URL is in the Secret: in-cluster when the overlay runs PostgreSQL, else external.
            wanted.append(("postgres", PORTS["postgres"]))
        for host, port in wanted:
            found = backend(manifest, host, port)
            edges.add((source, found[0], found[1]) if found else (source, "external", port))
    return edges


def port_allowed(rule: Obj, port: int, names: dict[str, int]) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("port") == port or names.get(str(p.get("port"))) == port for p in ports)


def peer_allowed(peers: list[Obj] | None, labels: dict[str, str] | None) -> bool:
    """Whether a rule's peers admit a pod of this namespace (labels) or, for None, an outside address."""
    if not peers:
        return True
    for peer in peers:
        if labels is None:
            if "ipBlock" in peer:
                return True
        elif (
            "podSelector" in peer
            and "namespaceSelector" not in peer
            and label_match(peer["podSelector"], labels)
        ):
            return True
    return False


def allowed(manifest: Manifests, direction: str, pod: str, peer: str | None, port: int) -> bool:
    """Whether the policies selecting `pod` allow traffic of `direction` with `peer` (None: outside)."""
    labels = pod_labels(manifest, pod)
    peer_labels = pod_labels(manifest, peer) if peer else None
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    # The port named in a rule is resolved on the receiving pod.
    names = container_ports(manifest, pod if direction == "Ingress" else (peer or ""))
    policies = [
        p
        for p in manifest.of_kind("NetworkPolicy")
        if direction in p["spec"]["policyTypes"] and label_match(p["spec"]["podSelector"], labels)
    ]
    if not policies:
        return True
    return any(
        port_allowed(rule, port, names) and peer_allowed(rule.get(peers_key), peer_labels)
        for policy in policies
        for rule in policy["spec"].get(key, [])
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_connection_a_service_makes_is_allowed_both_ways(overlay: str) -> None:
    manifest = manifests(overlay)
    edges = used_edges(manifest)
    assert ("gateway", "inference", 50053) in edges
    faults = []
    for source, destination, port in sorted(edges):
        peer = None if destination == "external" else destination
        if not allowed(manifest, "Egress", source, peer, port):
            faults.append(f"{source} may not reach {destination}:{port}")
        if peer and not allowed(manifest, "Ingress", peer, source, port):
            faults.append(f"{destination} does not admit {source} on {port}")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_service_reaches_what_it_does_not_use(overlay: str) -> None:
    manifest = manifests(overlay)
    edges = used_edges(manifest)
    services = {w["metadata"]["name"] for w in manifest.workloads() if w["kind"] == "Deployment"}
    extra = []
    for source in sorted(services):
        for destination in sorted(services | {"nats", "postgres", "qdrant", "redis"}):
            if not manifest.has("Service", destination) and destination not in services:
                continue
            if destination == source or not any(
                w["metadata"]["name"] == destination for w in manifest.workloads()
            ):
                continue
            for port in container_ports(manifest, destination).values():
                used = (source, destination, port) in edges
                if not used and allowed(manifest, "Egress", source, destination, port):
                    extra.append(f"{source} may reach {destination}:{port}, which it does not use")
    assert not extra, "\n".join(extra)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_is_reachable_from_outside(overlay: str) -> None:
    manifest = manifests(overlay)
    reachable = {
        w["metadata"]["name"]
        for w in manifest.workloads()
        for port in container_ports(manifest, w["metadata"]["name"]).values()
        if port not in (9101, 9102, 9103, 9104, 9105, 9106, 9114, 8222)  # metrics, for Prometheus and KEDA
        and allowed(manifest, "Ingress", w["metadata"]["name"], None, port)
    }
    assert reachable == {"gateway"}
