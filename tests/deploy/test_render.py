"""Every overlay renders, and every object it renders is valid for Kubernetes and its operators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.manifests import COMPONENTS, K8S, OVERLAYS, manifests

# The oldest Kubernetes the manifests promise to work on (native gRPC probes are GA from 1.27).
KUBERNETES_VERSION = "1.30"
CRD_SCHEMAS = Path(__file__).parent / "crd_schemas"


def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    """The openAPIV3Schema kept in crd_schemas/ for a custom resource, closed to unknown fields."""
    path = CRD_SCHEMAS / f"{api_version.replace('/', '-')}-{kind}.json"
    if not path.exists():
        return None
    return closed(json.loads(path.read_text()))


def closed(schema: Any) -> Any:
    """The schema with additionalProperties: false on every object that lists its properties and does
    not preserve unknown fields, so a misspelt field fails here as the API server would prune it."""
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders(overlay: str) -> None:
    assert manifests(overlay).objects


def test_there_are_a_dev_and_a_prod_overlay_and_they_use_every_component() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)
    used = set()
    for overlay in OVERLAYS:
        text = (K8S / "overlays" / overlay / "kustomization.yaml").read_text()
        used |= {name for name in COMPONENTS if f"components/{name}" in text}
    assert used == set(COMPONENTS), f"components no overlay uses: {set(COMPONENTS) - used}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_its_schema(overlay: str) -> None:
    failures = []
    for obj in manifests(overlay).objects:
        name = f"{obj['kind']} {obj['metadata']['name']}"
        schema = crd_schema(obj["apiVersion"], obj["kind"])
        try:
            if schema is not None:
                jsonschema.validate(obj, schema)
            else:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            failures.append(f"{name}: no schema (add its CRD's schema to {CRD_SCHEMAS.name}/)")
        except jsonschema.ValidationError as error:  # kubernetes_validate's is one too
            failures.append(f"{name}: {'/'.join(map(str, error.path))}: {error.message}")
    assert not failures, "\n".join(failures)


def test_a_misspelt_field_fails_the_schemas() -> None:
    scaled = next(obj for obj in manifests("prod").objects if obj["kind"] == "ScaledObject")
    broken = {**scaled, "spec": {**scaled["spec"], "minReplicas": 1}}
    schema = crd_schema(broken["apiVersion"], broken["kind"])
    with pytest.raises(jsonschema.ValidationError, match="minReplicas"):
        jsonschema.validate(broken, schema)
    deployment = next(obj for obj in manifests("prod").objects if obj["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
