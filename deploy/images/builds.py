"""Builds the six images as `make images` does, timing each, with pip inside the build finding what
the host's pip finds: its find-links directories (the CPU torch wheel lies in one here) served on a
loopback HTTP port for the length of the builds (the builds use the host's network)."""

from __future__ import annotations

import functools
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

from engine import docker
from hostpip import pip_setting

REPO_ROOT = Path(__file__).resolve().parents[2]
# (service, Dockerfile target) in the order `make images` builds them.
SERVICES = [
    ("gateway", None),
    ("prompt-svc", None),
    ("retriever", None),
    ("trainer", None),
    ("analytics", None),
    ("inference", "cpu"),
]


def image_name(service: str, target: str | None, tag: str) -> str:
    return f"tuneway/{service}:{tag}-{target}" if target else f"tuneway/{service}:{tag}"


@dataclass
class Built:
    image: str
    seconds: float
    size_bytes: int


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


# The wheel servers' first port. A build argument's value is part of the build cache's key, so the
# same port each run keeps the torch images' layers cached; a taken port falls back to a free one.
WHEELS_PORT = 47813


@contextmanager
def _serve(directory: Path, port: int) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def find_links() -> Iterator[str]:
    """PIP_FIND_LINKS for the builds: the host's, local directories served over loopback HTTP."""
    with ExitStack() as stack:
        links = []
        for number, link in enumerate(pip_setting("find-links").split()):
            path = Path(urlparse(link).path) if link.startswith("file:") else Path(link)
            if "://" in link and not link.startswith("file:"):
                links.append(link)
            elif path.is_dir():
                links.append(stack.enter_context(_serve(path, WHEELS_PORT + number)))
        yield " ".join(links)


def build_all(base_image: str, tag: str, log_dir: Path) -> list[Built]:
    """Builds every image; raises with the log's tail when one fails."""
    built = []
    with find_links() as links:
        for service, target in SERVICES:
            image = image_name(service, target, tag)
            command = ["build", "--network", "host", "--build-arg", f"BASE_IMAGE={base_image}"]
            if links:
                command += ["--build-arg", f"PIP_FIND_LINKS={links}"]
            if target:
                command += ["--target", target]
            command += ["-f", f"services/{service}/Dockerfile", "-t", image, str(REPO_ROOT)]
            log = log_dir / f"build-{service}.log"
            print(f"building {image} (log: {log})", flush=True)
            started = time.monotonic()
            result = docker_logged(command, log)
            seconds = time.monotonic() - started
            if result != 0:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                raise SystemExit(f"{image} did not build (exit {result}):\n{tail}")
            size = int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout.strip())
            built.append(Built(image, seconds, size))
            print(f"built {image}: {seconds:.0f} s, {size / 1e6:.0f} MB", flush=True)
    return built


def docker_logged(args: list[str], log: Path) -> int:
    """`docker args` with its output in `log`; returns the exit status."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.run(
            ["docker", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
            check=False,
        ).returncode


# The images that carry torch; each must carry its CPU build (a CUDA one is gigabytes of libraries
# that a CPU image never uses).
TORCH_IMAGES = ("retriever", "trainer", "inference-cpu")


def cpu_torch(images: dict[str, str]) -> str:
    """Raises unless every image in TORCH_IMAGES imports a torch built without CUDA."""
    seen = []
    for name in TORCH_IMAGES:
        probe = "import torch; print(torch.__version__, torch.version.cuda)"
        out = docker("run", "--rm", "--network", "none", images[name], "python", "-c", probe).stdout.split()
        assert out[-1] == "None", f"{images[name]} carries torch {out[0]} built for CUDA {out[-1]}"
        seen.append(f"{name} {out[0]}")
    return ", ".join(seen)
