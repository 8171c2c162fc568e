"""The analytics API over HTTP: query validation (before any call), and the reports, drill-down, settings
and query types through a real analytics replica (in-process, on SQLite, consuming the session's NATS)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from tuneway.core.testing.processes import free_port

Gateway = Any


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/analytics/summary?group_by=channel,colour", "group_by"),
        ("/v1/analytics/summary?group_by=channel,channel", "group_by"),
        ("/v1/analytics/summary?chanel=web", "chanel"),
        ("/v1/analytics/summary?from=yesterday", "from"),
        ("/v1/analytics/summary?from=2025-02-01&to=2025-01-01", "from"),
        ("/v1/analytics/summary?format=xml", "format"),
        ("/v1/analytics/timeseries?interval=week", "interval"),
        ("/v1/analytics/events?limit=0", "limit"),
        ("/v1/analytics/events?group_by=channel", "group_by"),
        ("/v1/experiments/exp_1/results?min_sample=-1", "min_sample"),
        ("/v1/experiments/exp_1/results?arm=b", "arm"),
    ],
)
async def test_bad_query_parameters_are_a_400_naming_them(gateway: Gateway, path: str, param: str) -> None:
    error = _error(await gateway.app_client.get(path, headers=gateway.auth(gateway.acme_key)), 400)
    assert error["param"] == param and error["type"] == "invalid_request_error", error


async def test_without_the_analytics_service_reports_are_a_503(gateway: Gateway) -> None:
    response = await gateway.app_client.get("/v1/analytics/summary", headers=gateway.auth(gateway.acme_key))
    assert _error(response, 503)["code"] == "service_unavailable"


analytics_main = pytest.importorskip("tuneway.analytics.main")


@pytest.fixture
async def analytics_gateway(
    start_gateway: Callable[..., AbstractAsyncContextManager[Any]], nats_url: str, tmp_path: Path
) -> AsyncIterator[Gateway]:
    """A gateway whose analytics service is a real replica (no retriever: nothing here is classified)."""
    from tuneway.analytics.settings import AnalyticsSettings

    port = free_port()
    settings = AnalyticsSettings(
        data_dir=tmp_path / "analytics",
        nats_url=nats_url,
        retriever_target=f"127.0.0.1:{free_port()}",
        grpc_port=port,
        host="127.0.0.1",
        metrics_port=0,
        drain_seconds=0.2,
        fetch_timeout_seconds=0.2,
    )
    from tuneway.prompt_svc.main import PromptServer
    from tuneway.prompt_svc.settings import PromptSettings

    prompt_port = free_port()
    prompts = PromptServer(
        PromptSettings(
            data_dir=tmp_path / "prompt-svc", nats_url=nats_url, grpc_port=prompt_port, host="127.0.0.1"
        )
    )
    server = analytics_main.AnalyticsServer(settings)
    await server.start()
    await prompts.start()
    try:
        async with start_gateway(
            analytics_target=f"127.0.0.1:{port}", prompt_target=f"127.0.0.1:{prompt_port}"
        ) as gateway:
            yield gateway
    finally:
        await prompts.stop()
        await server.stop()


@pytest.mark.integration
async def test_reports_settings_and_query_types_through_the_service(analytics_gateway: Gateway) -> None:
    gw = analytics_gateway
    client, acme, globex = gw.app_client, gw.auth(gw.acme_key), gw.auth(gw.globex_key)

    summary = await client.get(
        "/v1/analytics/summary",
        params={"from": "2025-01-01T00:00:00Z", "to": "1738368000", "group_by": "channel", "language": "de"},
        headers=acme,
    )
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["object"] == "analytics.summary" and body["group_by"] == ["channel"] and body["data"] == []
    assert (body["from"], body["to"]) == ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")
    assert body["total"]["requests"] == 0 and body["total"]["latency_p50_ms"] is None
    assert body["total"]["errors_by_code"] == {} and body["total"]["positive_rate"] is None

    as_csv = await client.get(
        "/v1/analytics/summary", params={"group_by": "model,channel"}, headers={**acme, "Accept": "text/csv"}
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="analytics-summary.csv"' in as_csv.headers["content-disposition"]
    header = next(csv.reader(io.StringIO(as_csv.text)))
    assert header[:4] == ["model", "channel", "requests", "errors"] and "mean_score" in header

    series = await client.get("/v1/analytics/timeseries", params={"interval": "hour"}, headers=acme)
    assert series.status_code == 200 and series.json()["object"] == "analytics.timeseries"
    events = await client.get("/v1/analytics/events", params={"limit": 5, "channel": "web"}, headers=acme)
    assert events.json() == {"object": "list", "data": [], "has_more": False, "next_cursor": None}

    assert (await client.get("/v1/analytics/settings", headers=acme)).json() == {
        "object": "analytics.settings",
        "keep_message_text": False,
    }
    updated = await client.put("/v1/analytics/settings", json={"keep_message_text": True}, headers=acme)
    assert updated.json()["keep_message_text"] is True
    assert (await client.get("/v1/analytics/settings", headers=acme)).json()["keep_message_text"] is True
    # Another tenant's settings are its own.
    assert (await client.get("/v1/analytics/settings", headers=globex)).json()["keep_message_text"] is False
    bad = await client.put("/v1/analytics/settings", json={"keep_message_text": "yes", "x": 1}, headers=acme)
    assert _error(bad, 400)["param"] in ("keep_message_text", "x")

    types = (await client.get("/v1/analytics/query_types", headers=acme)).json()
    assert types["object"] == "list" and types["data"] and all(t["builtin"] for t in types["data"])
    assert 0 < types["threshold"] < 1
    missing = await client.delete("/v1/analytics/query_types/not-a-type", headers=acme)
    assert _error(missing, 404)["param"] == "name"


@pytest.mark.integration
async def test_experiment_results_take_the_arms_from_prompt_svc(analytics_gateway: Gateway) -> None:
    gw = analytics_gateway
    client, acme, globex = gw.app_client, gw.auth(gw.acme_key), gw.auth(gw.globex_key)
    await client.post(
        "/v1/prompts", headers=acme, json={"name": "p", "messages": [{"role": "system", "content": "A"}]}
    )
    await client.post(
        "/v1/prompts/p/versions", headers=acme, json={"messages": [{"role": "system", "content": "B"}]}
    )
    variants = [{"name": "a", "version": 1, "weight": 3}, {"name": "b", "version": 2, "weight": 1}]
    created = await client.post(
        "/v1/experiments", headers=acme, json={"name": "ab", "prompt": "p", "variants": variants}
    )
    assert created.status_code == 201, created.text
    path = f"/v1/experiments/{created.json()['id']}/results"

    results = await client.get(path, params={"min_sample": 10}, headers=acme)
    assert results.status_code == 200, results.text
    body = results.json()
    assert (body["object"], body["control"], body["min_sample"], body["enough_data"], body["leader"]) == (
        "experiment.results",
        "a",
        10,
        False,
        None,
    )
    assert [arm["name"] for arm in body["arms"]] == ["a", "b"] and body["arms"][0]["positive_rate"] is None
    assert body["sample_ratio"]["arms"] == ["a", "b"] and body["sample_ratio"]["expected_shares"] == [
        0.75,
        0.25,
    ]
    # Another tenant's experiment is not found (prompt-svc says so before analytics is asked).
    assert _error(await client.get(path, headers=globex), 404)["type"] == "invalid_request_error"
