"""The Kubernetes manifests as `kubectl kustomize` renders them, and what the tests read from them."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S = REPO_ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if path.is_dir())
COMPONENTS = sorted(path.name for path in (K8S / "components").iterdir() if path.is_dir())
SECRETS_EXAMPLE = K8S / "secrets.example.env"
# kubectl embeds kustomize; Components need kustomize v3.7+, i.e. kubectl 1.21 or newer (Debian
# bookworm's kubernetes-client is 1.20).
MIN_KUSTOMIZE = (4, 0)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}

Obj = dict[str, Any]


def kubectl() -> str:
    """The kubectl binary, or a failure that says how to get one."""
    path = shutil.which("kubectl")
    assert path, "kubectl is missing: `make kubectl` installs it"
    out = subprocess.run([path, "version", "--client"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Kustomize Version: v(\d+)\.(\d+)", out)
    assert found and tuple(map(int, found.groups())) >= MIN_KUSTOMIZE, (
        f"kubectl's kustomize is too old for components (need v{MIN_KUSTOMIZE[0]}+): {out.strip()}"
    )
    return path


@functools.cache
def render(overlay: str) -> tuple[Obj, ...]:
    """Every object of an overlay, as `kubectl kustomize deploy/k8s/overlays/<overlay>` prints them."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"kustomize failed for {overlay}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


@dataclass(frozen=True)
class Manifests:
    """One overlay's rendered objects."""

    overlay: str
    objects: tuple[Obj, ...]

    def of_kind(self, kind: str) -> list[Obj]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def named(self, kind: str, name: str) -> Obj:
        found = [obj for obj in self.of_kind(kind) if obj["metadata"]["name"] == name]
        assert found, f"{self.overlay}: no {kind} {name}"
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(obj["metadata"]["name"] == name for obj in self.of_kind(kind))

    def namespace(self) -> str:
        return str(self.of_kind("Namespace")[0]["metadata"]["name"])

    def workloads(self) -> list[Obj]:
        return [obj for obj in self.objects if obj["kind"] in WORKLOAD_KINDS]

    def pods(self) -> Iterator[tuple[Obj, Obj]]:
        """(workload, pod template) of every workload."""
        for workload in self.workloads():
            yield workload, workload["spec"]["template"]

    def containers(self) -> Iterator[tuple[Obj, Obj, Obj, bool]]:
        """(workload, pod spec, container, is init container) of every container."""
        for workload, template in self.pods():
            spec = template["spec"]
            for container in spec.get("initContainers", []):
                yield workload, spec, container, True
            for container in spec["containers"]:
                yield workload, spec, container, False

    def config_data(self, name: str) -> dict[str, str]:
        return dict(self.named("ConfigMap", name).get("data", {}))

    def environment(self, container: Obj) -> dict[str, str | None]:
        """A container's variables: ConfigMap values, literal values, and None for Secret keys."""
        env: dict[str, str | None] = {}
        for source in container.get("envFrom", []):
            env.update(self.config_data(source["configMapRef"]["name"]))
        for var in container.get("env", []):
            env[var["name"]] = var.get("value")
        return env


def manifests(overlay: str) -> Manifests:
    return Manifests(overlay, render(overlay))


def label_match(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def secret_example_keys() -> set[str]:
    """The keys deploy/k8s/secrets.example.env documents for the Secret tuneway-secrets."""
    keys = set()
    for line in SECRETS_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.add(line.split("=", 1)[0])
    return keys
