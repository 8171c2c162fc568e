"""Every container of every overlay is hardened, bounded, probed and pinned."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.manifests import OVERLAYS, Manifests, Obj, manifests
from tests.deploy.services import process_of

# The inference startup probe must let a large model load (vLLM's production stack allows ~10 min).
MODEL_LOADING_SECONDS = 600


def where(manifest: Manifests, workload: Obj, container: Obj) -> str:
    return f"{manifest.overlay}: {workload['kind']} {workload['metadata']['name']} / {container['name']}"


def effective(pod: Obj, container: Obj, key: str) -> Any:
    """A security setting as it applies to the container: its own, else the pod's."""
    own = container.get("securityContext", {}).get(key)
    return own if own is not None else pod.get("securityContext", {}).get(key)


def container_faults(pod: Obj, container: Obj, is_init: bool, long_running: bool) -> list[str]:
    faults = []
    image = container["image"]
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag or tag in ("", "latest"):
        faults.append(f"image {image} has no pinned tag")
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(kind, {}):
                faults.append(f"no {resource} {kind}")
    security = container.get("securityContext", {})
    if effective(pod, container, "runAsNonRoot") is not True:
        faults.append("runAsNonRoot is not true")
    if security.get("readOnlyRootFilesystem") is not True:
        faults.append("readOnlyRootFilesystem is not true")
    if security.get("allowPrivilegeEscalation") is not False:
        faults.append("allowPrivilegeEscalation is not false")
    if "ALL" not in security.get("capabilities", {}).get("drop", []):
        faults.append("capabilities do not drop ALL")
    if security.get("capabilities", {}).get("add"):
        faults.append("capabilities added")
    if (effective(pod, container, "seccompProfile") or {}).get("type") != "RuntimeDefault":
        faults.append("seccompProfile is not RuntimeDefault")
    if long_running and not is_init:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe not in container:
                faults.append(f"no {probe}")
    named_ports = {port.get("name") for port in container.get("ports", [])}
    numbers = {port["containerPort"] for port in container.get("ports", [])}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        for handler in ("httpGet", "grpc", "tcpSocket"):
            port = container.get(probe, {}).get(handler, {}).get("port")
            if port is not None and port not in named_ports | numbers:
                faults.append(f"{probe} probes port {port}, which the container does not expose")
    return faults


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_hardened_bounded_probed_and_pinned(overlay: str) -> None:
    manifest = manifests(overlay)
    faults = []
    for workload, pod, container, is_init in manifest.containers():
        long_running = workload["kind"] != "Job"
        faults += [
            f"{where(manifest, workload, container)}: {fault}"
            for fault in container_faults(pod, container, is_init, long_running)
        ]
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_mount_no_service_account_token_and_write_only_to_volumes(overlay: str) -> None:
    manifest = manifests(overlay)
    faults = []
    for workload, pod, container, _ in manifest.containers():
        place = where(manifest, workload, container)
        if pod.get("automountServiceAccountToken") is not False:
            faults.append(f"{place}: mounts a service account token")
        volumes = {volume["name"] for volume in pod.get("volumes", [])}
        templates = {claim["metadata"]["name"] for claim in workload["spec"].get("volumeClaimTemplates", [])}
        mounts = {mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", [])}
        faults += [
            f"{place}: mounts unknown volume {name}"
            for name in mounts.values()
            if name not in volumes | templates
        ]
        env = manifest.environment(container)
        # A read-only root: everything a tuneway process writes must be on a volume.
        for var in ("TUNEWAY_DATA_DIR",):
            if env.get(var) and env[var] not in mounts:
                faults.append(f"{place}: {var}={env[var]} is not a mounted volume")
        process = process_of(container)
        for var, value in env.items():
            serves = process is not None and process.role != "script"
            if serves and var.endswith("_ARTIFACTS_DIR") and value not in mounts:
                faults.append(f"{place}: {var}={value} is not a mounted volume")
        if container["image"].startswith("tuneway/") and "/tmp" not in mounts:
            faults.append(f"{place}: no writable /tmp")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_inference_startup_probe_allows_model_loading(overlay: str) -> None:
    deployment = manifests(overlay).named("Deployment", "inference")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    probe = container["startupProbe"]
    allowed = probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get(
        "failureThreshold", 3
    )
    assert allowed >= MODEL_LOADING_SECONDS, f"{overlay}: inference gets {allowed} s to load its model"
    assert "grpc" in container["readinessProbe"], "inference readiness is its gRPC health"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_inference_service_is_headless(overlay: str) -> None:
    service = manifests(overlay).named("Service", "inference")
    assert service["spec"].get("clusterIP") == "None", "the gateway resolves every inference replica"


def test_prod_runs_inference_on_gpus_with_replicas_spread_and_disruption_budgets() -> None:
    prod = manifests("prod")
    inference = prod.named("Deployment", "inference")
    pod = inference["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["tolerations"] and pod["affinity"]["nodeAffinity"]
    assert inference["spec"]["replicas"] >= 2
    assert prod.named("Deployment", "gateway")["spec"]["replicas"] == 3
    assert pod["containers"][0]["image"].endswith("-cuda")
    budgets = {
        pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for pdb in prod.of_kind("PodDisruptionBudget")
    }
    spread = {
        d["metadata"]["name"]
        for d in prod.of_kind("Deployment")
        if d["spec"]["template"]["spec"].get("topologySpreadConstraints")
    }
    replicated = {
        d["metadata"]["name"] for d in prod.of_kind("Deployment") if d["spec"].get("replicas", 1) > 1
    }
    assert replicated <= budgets, f"replicated without a PodDisruptionBudget: {replicated - budgets}"
    assert replicated <= spread, f"replicated without topology spread: {replicated - spread}"


def test_dev_runs_on_cpu_with_one_replica_each_and_its_dependencies_in_cluster() -> None:
    dev = manifests("dev")
    for workload in dev.workloads():
        if workload["kind"] != "Job":
            assert workload["spec"].get("replicas", 1) == 1, workload["metadata"]["name"]
    inference = dev.named("Deployment", "inference")["spec"]["template"]["spec"]
    assert "runtimeClassName" not in inference
    assert inference["containers"][0]["image"].endswith("-cpu")
    assert {"nats", "postgres", "qdrant"} <= {s["metadata"]["name"] for s in dev.of_kind("StatefulSet")}
    assert dev.has("Job", "demo-model")
