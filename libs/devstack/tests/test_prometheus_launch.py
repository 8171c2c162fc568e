"""make run's Prometheus: scrapes every service of the stack, and the stack carries on without it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tuneway.core.testing.prometheus import prometheus_binary
from tuneway.devstack.launcher import Stack, StackConfig

JOBS = {
    "gateway",
    "inference",
    "prompt-svc",
    "retriever",
    "trainer",
    "trainer-worker",
    "analytics",
    "batch-worker",
}


def test_prometheus_scrapes_every_service_on_the_stacks_ports(tmp_path: Path) -> None:
    if prometheus_binary() is None:
        pytest.skip("prometheus is not on PATH")
    config = StackConfig.on_free_ports(tmp_path)
    stack = Stack(config)
    try:
        assert stack.start_prometheus() == f"http://127.0.0.1:{config.prometheus_port}"
        assert stack.prometheus is not None
        scraped = json.loads((tmp_path / "prometheus" / "prometheus.yml").read_text())
        targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in scraped["scrape_configs"]}
        assert set(targets) == JOBS
        assert targets["analytics"] == [f"127.0.0.1:{config.analytics_metrics_port}"]
        # The gateway's own metrics port: /metrics is not on its API port.
        assert targets["gateway"] == [f"127.0.0.1:{config.gateway_metrics_port}"]
        # Prometheus discovers its static targets just after it is ready.
        deadline = time.monotonic() + 15
        while set(stack.prometheus.target_health()) != JOBS and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(stack.prometheus.target_health()) == JOBS
        # Its storage is under the data dir.
        assert (tmp_path / "prometheus" / "data").is_dir()
    finally:
        stack.stop()
    assert stack.prometheus is None


def test_without_the_binary_the_stack_says_so_and_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    stack = Stack(StackConfig.on_free_ports(tmp_path))
    assert "not installed" in stack.start_prometheus()
    assert stack.prometheus is None


def test_port_zero_starts_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUNEWAY_PROMETHEUS_PORT", "0")
    config = StackConfig.from_env()
    assert config.prometheus_port == 0
    assert "not started" in Stack(config).start_prometheus()
