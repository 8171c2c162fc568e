"""The manifests configure the services through their settings classes: a renamed setting, a moved
port or a target no Service answers fails here."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.deploy.manifests import OVERLAYS, Manifests, Obj, manifests
from tests.deploy.services import env_names, process_of

# Variables a tuneway container may carry that no settings class reads (the runtime's own).
RUNTIME_ENV: set[str] = set()


def tuneway_containers(manifest: Manifests) -> list[tuple[Obj, Obj]]:
    found = [
        (workload, container)
        for workload, _, container, _ in manifest.containers()
        if process_of(container) is not None
    ]
    assert found
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_is_one_the_settings_class_reads(overlay: str) -> None:
    manifest = manifests(overlay)
    faults = []
    for workload, container in tuneway_containers(manifest):
        process = process_of(container)
        assert process is not None
        known = env_names(process.settings) | RUNTIME_ENV
        faults += [
            f"{workload['metadata']['name']} / {container['name']}: {name} is read by no field of "
            f"{process.settings.__name__}"
            for name in manifest.environment(container)
            if name not in known
        ]
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_settings_parse_and_ports_are_the_ones_the_process_listens_on(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = manifests(overlay)
    faults = []
    for workload, container in tuneway_containers(manifest):
        process = process_of(container)
        assert process is not None
        place = f"{workload['metadata']['name']} / {container['name']}"
        with monkeypatch.context() as env:
            for name, value in manifest.environment(container).items():
                # Secret values are not in the repo; a URL-shaped stand-in keeps the parse honest.
                env.setenv(name, value if value is not None else "secret")
            try:
                settings = process.settings()
            except ValidationError as error:
                faults.append(f"{place}: {error}")
                continue
        ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        expected = {name: getattr(settings, field) for name, field in process.port_fields().items()}
        if ports != expected:
            faults.append(
                f"{place}: container ports {ports}, {process.settings.__name__} listens on {expected}"
            )
    assert not faults, "\n".join(faults)


def service_port(manifest: Manifests, host: str, port: int) -> tuple[Obj, str] | None:
    """The Service named `host` and the container port name its `port` forwards to, if it exists."""
    if not manifest.has("Service", host):
        return None
    service = manifest.named("Service", host)
    for entry in service["spec"]["ports"]:
        if entry["port"] == port:
            return service, entry.get("targetPort", port)
    raise AssertionError(f"Service {host} has no port {port}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_target_a_service_calls_is_a_service_that_answers_there(overlay: str) -> None:
    manifest = manifests(overlay)
    faults = []
    for workload, container in tuneway_containers(manifest):
        process = process_of(container)
        assert process is not None
        env = manifest.environment(container)
        for name, value in env.items():
            if not name.endswith("_TARGET") or value is None:
                continue
            host, port = value.rsplit(":", 1)
            found = service_port(manifest, host, int(port))
            if found is None:
                faults.append(f"{workload['metadata']['name']}: {name}={value}: no Service {host}")
        for name in ("TUNEWAY_NATS_URL", "RETRIEVER_QDRANT_URL"):
            value = env.get(name)
            if not value:
                continue
            host, port = value.split("://", 1)[1].rsplit(":", 1)
            # A dotted host is outside the namespace (an external dependency); a bare one is a Service here.
            if "." not in host and service_port(manifest, host, int(port)) is None:
                faults.append(f"{workload['metadata']['name']}: {name}={value}: no Service {host}")
    assert not faults, "\n".join(faults)


def test_a_renamed_setting_would_fail() -> None:
    from tuneway.gateway.settings import GatewaySettings

    names = env_names(GatewaySettings)
    assert "GATEWAY_INFERENCE_TARGET" in names and "TUNEWAY_BOOTSTRAP_KEY" in names
    assert "GATEWAY_BOOTSTRAP_KEY" not in names  # read without the prefix only
