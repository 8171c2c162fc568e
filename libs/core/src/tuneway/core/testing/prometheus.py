"""A real Prometheus process scraping given targets: for `make run` and for tests of the dashboards."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from tuneway.core.testing.processes import stop_process


def prometheus_binary() -> str | None:
    """The prometheus binary on PATH (Debian's package puts it in /usr/bin), or None."""
    return shutil.which("prometheus")


def scrape_config(targets: Mapping[str, str | Sequence[str]], interval: str = "5s") -> dict[str, Any]:
    """A Prometheus config scraping each job's metrics URL (http://host:port/path), or the URLs of its
    replicas (one path and scheme), every `interval`."""
    jobs = []
    for job, urls in targets.items():
        parsed = [urlparse(url) for url in ([urls] if isinstance(urls, str) else urls)]
        jobs.append(
            {
                "job_name": job,
                "metrics_path": parsed[0].path or "/metrics",
                "scheme": parsed[0].scheme or "http",
                "static_configs": [{"targets": [url.netloc for url in parsed]}],
            }
        )
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": jobs,
    }


class PrometheusServer:
    """A Prometheus on 127.0.0.1:port with its config and storage under `root`."""

    def __init__(
        self, root: Path, port: int, targets: Mapping[str, str | Sequence[str]], interval: str = "5s"
    ) -> None:
        self.root = root
        self.port = port
        self.targets = targets
        self.interval = interval
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of its web UI and HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Writes the config (JSON is YAML) and starts Prometheus; returns once it reports ready."""
        binary = prometheus_binary()
        if binary is None:
            raise FileNotFoundError("prometheus is not on PATH (make install installs it)")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "prometheus.yml"
        config.write_text(json.dumps(scrape_config(self.targets, self.interval), indent=2) + "\n")
        log = (self.root / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.root / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.root / "prometheus.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"prometheus did not become ready on port {self.port}:\n{tail}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result of an instant query through the HTTP API (/api/v1/query); raises on a bad query."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        if body.get("status") != "success":
            raise ValueError(f"{expr}: {body.get('errorType')}: {body.get('error')}")
        return list(body["data"]["result"])

    def target_health(self) -> dict[str, str]:
        """Each scrape job's health (up, down, unknown) as Prometheus last saw it."""
        response = httpx.get(f"{self.url}/api/v1/targets", timeout=10)
        active = response.json()["data"]["activeTargets"]
        return {target["labels"]["job"]: target["health"] for target in active}

    def stop(self) -> None:
        """Stops the process; its storage stays under root."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None
