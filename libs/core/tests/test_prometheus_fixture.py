"""The prometheus fixture: a real Prometheus scrapes a real metrics endpoint and answers queries."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from tuneway.core.testing.processes import free_port
from tuneway.core.testing.prometheus import PrometheusServer

pytestmark = pytest.mark.integration


def test_prometheus_scrapes_the_targets_it_is_given(
    prometheus: Callable[[dict[str, str]], PrometheusServer],
) -> None:
    registry = CollectorRegistry()
    Counter("fixture_probe_total", "A counter only this test exports", registry=registry).inc(7)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        running = prometheus(
            {"probe": f"http://127.0.0.1:{port}/metrics", "nobody": f"http://127.0.0.1:{free_port()}/metrics"}
        )
        deadline = time.monotonic() + 30
        while not (result := running.query("fixture_probe_total")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [sample["value"][1] for sample in result] == ["7"]
        assert result[0]["metric"]["job"] == "probe"
        assert running.target_health()["nobody"] in ("down", "unknown")
        with pytest.raises(ValueError, match="parse"):
            running.query("sum(")
    finally:
        server.shutdown()
        thread.join()
