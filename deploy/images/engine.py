"""The Docker engine and the base image `make images-test` builds on.

The engine is Debian's `docker.io` (installed with apt when `dockerd` is missing and we are root),
started in the background at a low CPU priority when none answers. The base is the Dockerfiles'
default when a registry answers; where none does, one made from Debian's packages with mmdebstrap
and `docker import`, carrying the CA bundle the host's pip trusts (a TLS-intercepting proxy's CA
lives there), so that pip inside the build reaches the package index as the host's pip does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from hostpip import pip_setting

# The Dockerfiles' default base (ARG BASE_IMAGE); a registry must answer to pull it.
DEFAULT_BASE = "python:3.11.14-slim-bookworm"
DEBIAN_BASE = "tuneway/debian-python:bookworm"
DEBIAN_SUITE = "bookworm"  # its python3 is 3.11, as the default base's
# What the Dockerfiles need from a base: python3 with venv, useradd/groupadd, CA certificates.
DEBIAN_PACKAGES = "python3,python3-venv,ca-certificates,passwd"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's bundle, which pip in the base reads


def docker(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs the docker CLI on the legacy builder (BuildKit would fetch its Dockerfile frontend, the
    `# syntax=` image, from a registry, and the CLI may lack buildx)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    result = subprocess.run(["docker", *args], text=True, capture_output=capture, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} ... exited {result.returncode}: {result.stderr}")
    return result


def engine_answers() -> bool:
    return docker("info", check=False).returncode == 0


def ensure_engine(log_dir: Path) -> str:
    """A Docker engine that answers: the running one, or Debian's dockerd started here. Returns what
    was done, for the report."""
    if engine_answers():
        return "the running Docker engine"
    if os.geteuid() != 0:
        raise SystemExit("no Docker engine answers; start one (dockerd runs as root) and retry")
    done = []
    if shutil.which("dockerd") is None:
        _apt_install("docker.io")
        done.append("installed docker.io")
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "dockerd.log").open("ab") as log:
        # Host networking only (no bridge, no iptables: containers share the host's network), at a
        # low priority so the builds do not starve whatever else runs here; containers inherit it.
        subprocess.Popen(
            ["nice", "-n", "15", "dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while not engine_answers():
        if time.monotonic() > deadline:
            raise SystemExit(f"dockerd did not answer within 60 s; see {log_dir / 'dockerd.log'}")
        time.sleep(1)
    return ", ".join([*done, "started dockerd"])


def _apt_install(*packages: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages], check=True, env=env)


def image_exists(image: str) -> bool:
    return docker("image", "inspect", image, check=False).returncode == 0


def choose_base(requested: str, log_dir: Path) -> tuple[str, str]:
    """(base image, how it was chosen): `requested` if given, else the Dockerfiles' default if a
    registry gives it, else the Debian-made base (made once; `docker rmi` it to remake it)."""
    if requested:
        if not image_exists(requested):
            docker("pull", requested, capture=False)
        return requested, "given (BASE_IMAGE)"
    if image_exists(DEFAULT_BASE) or docker("pull", DEFAULT_BASE, check=False).returncode == 0:
        return DEFAULT_BASE, "the Dockerfiles' default, from a registry"
    if image_exists(DEBIAN_BASE):
        return DEBIAN_BASE, "no registry answers: the Debian-made base, made earlier"
    seconds = make_debian_base(log_dir)
    return DEBIAN_BASE, f"no registry answers: made from Debian's packages in {seconds:.0f} s"


def make_debian_base(log_dir: Path) -> float:
    """mmdebstrap a minimal bookworm with Python, import it as DEBIAN_BASE; returns the seconds taken."""
    if shutil.which("mmdebstrap") is None:
        if os.geteuid() != 0:
            raise SystemExit("mmdebstrap is missing: apt-get install mmdebstrap")
        _apt_install("mmdebstrap")
    started = time.monotonic()
    hooks = []
    host_ca = pip_setting("cert")
    if host_ca and Path(host_ca).is_file():
        # Debian's own way to add a CA: a file in /usr/local/share/ca-certificates, then the update.
        hooks += [
            f"--customize-hook=upload {host_ca} /usr/local/share/ca-certificates/host-pip.crt",
            '--customize-hook=chroot "$1" update-ca-certificates',
        ]
    # No manuals or translations: nothing in the images reads them.
    excludes = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("man", "doc", "info", "locale")]
    with tempfile.TemporaryDirectory(prefix="tuneway-base-") as scratch:
        tarball = Path(scratch) / "base.tar"
        with (log_dir / "mmdebstrap.log").open("ab") as log:
            subprocess.run(
                ["nice", "-n", "15", "mmdebstrap", "--variant=minbase", f"--include={DEBIAN_PACKAGES}",
                 *excludes, *hooks, DEBIAN_SUITE, str(tarball)],
                check=True, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        docker(
            "import",
            "--change", f"ENV PIP_CERT={BUNDLE}",
            "--change", 'CMD ["python3"]',
            str(tarball), DEBIAN_BASE,
        )  # fmt: skip
    return time.monotonic() - started
