"""The Dockerfiles build what the manifests run: one per service, multi-stage, on a replaceable base,
as a non-root user, exposing the ports and running the command the pods expect, tagged as the
overlays name them."""

from __future__ import annotations

import re

import pytest

from tests.deploy.manifests import OVERLAYS, REPO_ROOT, manifests

SERVICES = sorted(path.parent.name for path in (REPO_ROOT / "services").glob("*/pyproject.toml"))


def dockerfile(service: str) -> str:
    path = REPO_ROOT / "services" / service / "Dockerfile"
    assert path.exists(), f"services/{service} has no Dockerfile"
    return path.read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.startswith("#")))
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in joined.splitlines()
        if (parts := line.strip().split(None, 1))
    ]


def final_stage(text: str, target: str | None = None) -> list[tuple[str, str]]:
    """The instructions of the image a build produces (its default, or `target` and its parents)."""
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    last = ""
    for op, args in instructions(text):
        if op == "FROM":
            image, _, name = args.partition(" AS ")
            parent = stages.get(image.strip(), [])
            current = list(parent)
            last = name.strip() or f"stage{len(stages)}"
            stages[last] = current
        current.append((op, args))
    return stages[target or last]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_a_multi_stage_dockerfile_on_a_replaceable_base(service: str) -> None:
    text = dockerfile(service)
    ops = instructions(text)
    assert ops[0] == ("ARG", ops[0][1]) and ops[0][1].startswith("BASE_IMAGE="), "ARG BASE_IMAGE comes first"
    default = ops[0][1].split("=", 1)[1]
    assert ":" in default and not default.endswith(":latest"), f"unpinned base {default}"
    stages = []
    for op, args in ops:
        if op == "FROM":
            image, _, name = args.partition(" AS ")
            assert image.strip() == "${BASE_IMAGE}" or image.strip() in stages, f"FROM {image}"
            stages.append(name.strip())
        elif op == "RUN" and "pip install" in args and stages[-1] != "build-cuda":
            # The CUDA engine stage pins vllm alone (it brings its own torch and CUDA libraries).
            assert "-c deploy/images/constraints.txt" in args, f"pip install without pinned versions: {args}"
    assert len(stages) >= 2, "multi-stage: the runtime carries no build tools"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_run_as_the_pods_user_with_the_pods_ports_and_commands(overlay: str) -> None:
    manifest = manifests(overlay)
    checked = set()
    for workload, pod, container, is_init in manifest.containers():
        image, tag = container["image"].rsplit(":", 1)
        if not image.startswith("tuneway/") or is_init or workload["kind"] == "Job":
            continue
        service = image.removeprefix("tuneway/")
        target = tag.rsplit("-", 1)[1] if service == "inference" else None
        stage = final_stage(dockerfile(service), target)
        user = [args for op, args in stage if op == "USER"][-1]
        assert user.split(":")[0] == str(pod["securityContext"]["runAsUser"]), f"{service}: USER {user}"
        exposed = {int(port) for op, args in stage if op == "EXPOSE" for port in args.split()}
        ports = {port["containerPort"] for port in container.get("ports", [])}
        assert ports <= exposed, f"{service}: pods use {ports}, the image exposes {exposed}"
        cmd = [args for op, args in stage if op == "CMD"][-1]
        module = container["command"][container["command"].index("-m") + 1]
        # Another entry point of the image's package (the gateway's batch worker) is that image too.
        package = ".".join(module.split(".")[:2])
        assert f'"{module}"' in cmd or f'"{package}"' in cmd or service == "trainer", (
            f"{service}: CMD {cmd} vs {container['command']}"
        )
        checked.add(service)
    assert checked == set(SERVICES)


def test_make_images_builds_every_service_at_the_overlays_tags() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    tag = re.search(r"^IMAGE_TAG \?= (\S+)$", makefile, re.M)
    assert tag
    loop = re.search(r"for svc in ([^;]+);", makefile[makefile.index("\nimages:") :])
    assert loop and set(loop[1].split()) | {"inference"} == set(SERVICES)
    for overlay in OVERLAYS:
        text = (REPO_ROOT / "deploy" / "k8s" / "overlays" / overlay / "kustomization.yaml").read_text()
        tags = set(re.findall(r'newTag: "([^"]+)"', text))
        assert {t.removesuffix("-cpu").removesuffix("-cuda") for t in tags} == {tag[1]}, overlay


def test_the_build_context_leaves_out_the_virtualenv_and_data() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    assert {".venv", "var", ".git"} <= ignored
