"""What the manifests point at exists: pods behind Services, ConfigMap and Secret keys, scale targets,
the dashboards, and the NATS names the code uses."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.deploy.manifests import (
    OVERLAYS,
    REPO_ROOT,
    SECRETS_EXAMPLE,
    Manifests,
    label_match,
    manifests,
    secret_example_keys,
)
from tuneway.core import nats as tnats
from tuneway.trainer.worker.consumer import DURABLE as TRAINER_CONSUMER

SECRET = "tuneway-secrets"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_selects_a_pod_and_targets_its_ports(overlay: str) -> None:
    manifest = manifests(overlay)
    faults = []
    for service in manifest.of_kind("Service"):
        name = service["metadata"]["name"]
        pods = [
            template
            for _, template in manifest.pods()
            if label_match({"matchLabels": service["spec"]["selector"]}, template["metadata"]["labels"])
        ]
        if not pods:
            faults.append(f"Service {name} selects no pod")
            continue
        for pod in pods:
            ports = [p for c in pod["spec"]["containers"] for p in c.get("ports", [])]
            names = {p.get("name") for p in ports} | {p["containerPort"] for p in ports}
            faults += [
                f"Service {name}: targetPort {port['targetPort']} is no container port"
                for port in service["spec"]["ports"]
                if port.get("targetPort", port["port"]) not in names
            ]
    for kind in ("ServiceMonitor", "PodMonitor", "PodDisruptionBudget"):
        for monitor in manifest.of_kind(kind):
            selector = monitor["spec"]["selector"]
            targets = (
                [s["metadata"].get("labels", {}) for s in manifest.of_kind("Service")]
                if kind == "ServiceMonitor"
                else [t["metadata"]["labels"] for _, t in manifest.pods()]
            )
            if not any(label_match(selector, labels) for labels in targets):
                faults.append(f"{kind} {monitor['metadata']['name']} selects nothing")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_referenced_config_map_and_secret_key_exists(overlay: str) -> None:
    manifest = manifests(overlay)
    documented = secret_example_keys()
    faults = []
    for workload, pod, container, _ in manifest.containers():
        place = f"{workload['kind']} {workload['metadata']['name']} / {container['name']}"
        for source in container.get("envFrom", []):
            assert "configMapRef" in source, f"{place}: envFrom a Secret hides which keys it needs"
            if not manifest.has("ConfigMap", source["configMapRef"]["name"]):
                faults.append(f"{place}: no ConfigMap {source['configMapRef']['name']}")
        for var in container.get("env", []):
            ref = var.get("valueFrom", {})
            if "configMapKeyRef" in ref:
                cm = ref["configMapKeyRef"]
                if not manifest.has("ConfigMap", cm["name"]) or cm["key"] not in manifest.config_data(
                    cm["name"]
                ):
                    faults.append(f"{place}: no key {cm['key']} in ConfigMap {cm['name']}")
            if "secretKeyRef" in ref:
                secret = ref["secretKeyRef"]
                if secret["name"] != SECRET:
                    faults.append(f"{place}: Secret {secret['name']} (every secret is in {SECRET})")
                elif secret["key"] not in documented:
                    faults.append(f"{place}: Secret key {secret['key']} is not in {SECRETS_EXAMPLE.name}")
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                name = volume["configMap"]["name"]
                if not manifest.has("ConfigMap", name):
                    faults.append(f"{place}: no ConfigMap {name}")
                    continue
                data = manifest.named("ConfigMap", name).get("data", {})
                faults += [
                    f"{place}: no key {item['key']} in ConfigMap {name}"
                    for item in volume["configMap"].get("items", [])
                    if item["key"] not in data
                ]
            if "secret" in volume:
                faults.append(f"{place}: a Secret volume (use keys from {SECRET} in env)")
    assert not faults, "\n".join(faults)
    assert not manifest.of_kind("Secret"), "Secrets are created out of band, never rendered from the repo"


def test_every_documented_secret_key_is_used() -> None:
    used = set()
    for overlay in OVERLAYS:
        for _, _, container, _ in manifests(overlay).containers():
            used |= {
                var["valueFrom"]["secretKeyRef"]["key"]
                for var in container.get("env", [])
                if "secretKeyRef" in var.get("valueFrom", {})
            }
    assert secret_example_keys() == used


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_scale_what_exists_on_what_the_code_names(overlay: str) -> None:
    manifest = manifests(overlay)
    for hpa in manifest.of_kind("HorizontalPodAutoscaler"):
        assert manifest.has("Deployment", hpa["spec"]["scaleTargetRef"]["name"])
    import tuneway.inference.metrics  # noqa: F401  (registers the inference metrics)

    in_flight = {family.name for family in REGISTRY.collect()}
    for scaled in manifest.of_kind("ScaledObject"):
        assert manifest.has("Deployment", scaled["spec"]["scaleTargetRef"]["name"])
        for trigger in scaled["spec"]["triggers"]:
            meta = trigger["metadata"]
            if trigger["type"] == "nats-jetstream":
                assert meta["stream"] == tnats.TRAINING_STREAM.name
                assert meta["consumer"] == TRAINER_CONSUMER
                assert meta["account"] == "$G"
                nats_url = manifest.config_data(config_map(manifest, "tuneway-shared"))["TUNEWAY_NATS_URL"]
                nats_host = nats_url.removeprefix("nats://").rsplit(":", 1)[0]
                monitor_host = meta["natsServerMonitoringEndpoint"].rsplit(":", 1)[0]
                # The services' NATS, by its cluster-wide name (KEDA runs in another namespace).
                assert monitor_host in (nats_host, f"{nats_host}.{manifest.namespace()}.svc.cluster.local")
            elif trigger["type"] == "prometheus":
                query = meta["query"]
                assert "tuneway_inference_requests_in_flight" in query
                assert "tuneway_inference_requests_in_flight" in in_flight
                assert f'namespace="{manifest.namespace()}"' in query
            else:
                raise AssertionError(f"unexpected trigger {trigger['type']}")


def config_map(manifest: Manifests, prefix: str) -> str:
    """The generated name (with its hash suffix) of a ConfigMap."""
    names = [cm["metadata"]["name"] for cm in manifest.of_kind("ConfigMap")]
    found = [name for name in names if name == prefix or name.rsplit("-", 1)[0] == prefix]
    assert len(found) == 1, f"ConfigMap {prefix}: {found}"
    return found[0]


def test_every_dashboard_is_a_config_map_for_grafanas_sidecar() -> None:
    prod = manifests("prod")
    dashboards = {path.name for path in (REPO_ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")}
    shipped = set()
    for cm in prod.of_kind("ConfigMap"):
        if cm["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            shipped |= set(cm["data"])
    assert dashboards and shipped == dashboards


def test_in_cluster_nats_keeps_jetstream_on_file_storage_synced_always() -> None:
    dev = manifests("dev")
    conf = dev.config_data(config_map(dev, "nats-config"))["nats.conf"]
    assert "sync_interval: always" in conf
    assert "store_dir: /data/jetstream" in conf
    nats = dev.named("StatefulSet", "nats")
    mounts = {
        m["mountPath"]: m["name"] for m in nats["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }
    claims = {claim["metadata"]["name"] for claim in nats["spec"]["volumeClaimTemplates"]}
    assert mounts["/data"] in claims, "JetStream's store is on a persistent volume"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migration_jobs_need_only_what_the_first_upgrade_step_applies(overlay: str) -> None:
    """deploy/README.md upgrades by applying `component in (config, migration)` first."""
    manifest = manifests(overlay)
    jobs = [
        j
        for j in manifest.of_kind("Job")
        if j["metadata"]["labels"].get("app.kubernetes.io/component") == "migration"
    ]
    assert jobs
    for job in jobs:
        for container in job["spec"]["template"]["spec"]["containers"]:
            for source in container.get("envFrom", []):
                cm = manifest.named("ConfigMap", source["configMapRef"]["name"])
                assert cm["metadata"]["labels"].get("app.kubernetes.io/component") == "config", cm[
                    "metadata"
                ]["name"]
