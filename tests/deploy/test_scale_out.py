"""What several replicas need from the manifests: gateways that find every inference pod by DNS, and
that share their rate limits once there is more than one of them."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import OVERLAYS, Manifests, label_match, manifests
from tuneway.gateway.clients.targets import parse_targets


def _gateway_env(manifest: Manifests) -> dict[str, str | None]:
    template = manifest.named("Deployment", "gateway")["spec"]["template"]
    return manifest.environment(template["spec"]["containers"][0])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_resolves_every_inference_pod_through_a_headless_service(overlay: str) -> None:
    manifest = manifests(overlay)
    target = _gateway_env(manifest)["GATEWAY_INFERENCE_TARGET"]
    assert target is not None
    [entry] = parse_targets(target, "GATEWAY_INFERENCE_TARGET")
    service = manifest.named("Service", entry.host.removesuffix(f".{manifest.namespace()}.svc.cluster.local"))
    # Headless: the name resolves to each ready pod's address, not to one virtual IP that would pin
    # the gateway's long-lived generation stream to whichever pod the first connection reached.
    assert service["spec"]["clusterIP"] == "None"
    assert not service["spec"].get("publishNotReadyAddresses"), "pods that are not ready would get calls"
    assert entry.port in [port["port"] for port in service["spec"]["ports"]]
    inference = manifest.named("Deployment", "inference")["spec"]["template"]["metadata"]["labels"]
    assert label_match({"matchLabels": service["spec"]["selector"]}, inference)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_more_than_one_gateway_shares_its_rate_limits_in_redis(overlay: str) -> None:
    manifest = manifests(overlay)
    gateways = manifest.named("Deployment", "gateway")["spec"].get("replicas", 1)
    scaled = any(
        h["spec"]["scaleTargetRef"]["name"] == "gateway" for h in manifest.of_kind("HorizontalPodAutoscaler")
    )
    env = _gateway_env(manifest)
    if gateways > 1 or scaled:
        assert "GATEWAY_REDIS_URL" in env, f"{overlay}: {gateways} gateways count rate limits apart"
    if manifest.has("StatefulSet", "redis"):
        assert env.get("GATEWAY_REDIS_URL") == "redis://redis:6379/0"
