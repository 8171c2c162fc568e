"""Every Grafana panel's query returns data from a real Prometheus scraping the stack `make run` starts.

This module runs last (tests/conftest.py moves it): the fine-tuning panels read what
test_finetune_e2e left in the trainer's metrics (a trained job, a registration, a loss)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import REPO_ROOT, RunningStack, make_tenant
from tuneway.core.testing.prometheus import PrometheusServer
from tuneway.devstack.dashboards.catalog import DASHBOARDS

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
POLICY = REPO_ROOT / "examples" / "knowledge" / "documents" / "vacation-policy.md"
# What Grafana would put in the variables at a 1 s scrape interval, over the last hour.
VARIABLES = {"$__rate_interval": "1m", "$__range": "1h"}


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _expand(expr: str) -> str:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def _traffic(stack: RunningStack) -> str:
    """What the panels show: a plain chat, an embedding, a knowledge base ingestion, an assistant that
    answers from it and one that cannot, and feedback on the answer. Returns how feedback went."""
    tenant = make_tenant(stack, "dashboards")
    client = stack.client(tenant.key)
    client.chat.completions.create(model=BASE, messages=[{"role": "user", "content": "Hello"}], max_tokens=4)
    client.embeddings.create(model="all-MiniLM-L6-v2", input=["vacation days"])
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {tenant.key}"}, timeout=300
    ) as http:
        kb = _ok(http.post("/v1/knowledge_bases", json={"name": "policies"}), 201)["id"]
        files = {"file": (POLICY.name, POLICY.read_bytes())}
        _ok(http.post(f"/v1/knowledge_bases/{kb}/documents", files=files, data={"wait": "true"}), 201)
        prompt = {
            "name": "policy-helper",
            "messages": [{"role": "system", "content": "Answer from these excerpts:\n\n{{ context }}"}],
            "variables": [{"name": "context", "default": ""}],
            "parameters": {"temperature": 0, "max_tokens": 4},
        }
        _ok(http.post("/v1/prompts", json=prompt), 201)
        knowledge = {"knowledge_base_ids": [kb], "top_k": 3, "score_threshold": 0.35}
        assistant = {
            "name": "policy-bot",
            "base_model": BASE,
            "prompt": "policy-helper",
            "knowledge": knowledge,
        }
        _ok(http.post("/v1/assistants", json=assistant), 201)
        answered = client.chat.completions.create(
            model="assistant:policy-bot",
            messages=[{"role": "user", "content": "How many unused vacation days can I carry over?"}],
            user="visitor-1",
        )
        client.chat.completions.create(
            model="assistant:policy-bot",
            messages=[{"role": "user", "content": "Which moon of Jupiter has the thickest ice crust?"}],
        )
        feedback = http.post(
            "/v1/feedback", json={"completion_id": answered.id, "rating": 1, "user": "visitor-1"}
        )
        return f"POST /v1/feedback answered {feedback.status_code}: {feedback.text[:200]}"


def _wait_until_up(prometheus: PrometheusServer, jobs: set[str], within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        health = prometheus.target_health()
        if all(health.get(job) == "up" for job in jobs):
            return
        assert time.monotonic() < deadline, f"not every service is scraped after {within:.0f} s: {health}"
        time.sleep(0.5)


def test_every_panel_query_returns_data(
    stack: RunningStack, prometheus: Callable[[dict[str, str]], PrometheusServer]
) -> None:
    server = prometheus(stack.metrics_urls)
    _wait_until_up(server, set(stack.metrics_urls), within=60)
    feedback = _traffic(stack)
    queries = [
        (f"{dashboard.title} / {panel.title}", _expand(query.expr))
        for dashboard in DASHBOARDS
        for panel in dashboard.panels
        for query in panel.queries
    ]
    # Analytics ingests its events asynchronously and Prometheus scrapes every second: a few scrapes.
    deadline = time.monotonic() + 60
    while True:
        empty = [(title, expr) for title, expr in queries if not server.query(expr)]
        if not empty or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not empty, f"panel queries without data ({feedback}):\n" + "\n".join(
        f"{title}: {expr}" for title, expr in empty
    )
