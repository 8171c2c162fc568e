"""/v1/prompts, /v1/prompt_templates and /v1/experiments over a real prompt-svc replica (in-process)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from tuneway.core.testing.processes import free_port
from tuneway.prompt_svc.main import PromptServer
from tuneway.prompt_svc.settings import PromptSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(
    start_gateway: Callable[..., AbstractAsyncContextManager[Any]], nats_url: str, tmp_path: Path
) -> AsyncIterator[Any]:
    """A gateway whose prompt-svc is a real replica on SQLite; no inference behind it."""
    port = free_port()
    server = PromptServer(
        PromptSettings(
            data_dir=tmp_path / "prompt-svc",
            nats_url=nats_url,
            grpc_port=port,
            host="127.0.0.1",
            languages="en,de",
        )
    )
    await server.start()
    try:
        async with start_gateway(prompt_target=f"127.0.0.1:{port}") as running:
            yield running
    finally:
        await server.stop()


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


async def test_prompt_lifecycle_over_http(gateway: Any) -> None:
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    templates = (await client.get("/v1/prompt_templates", headers=acme)).json()["data"]
    assert len(templates) == 6 and templates[0]["object"] == "prompt_template"

    created = await client.post(
        "/v1/prompts", headers=acme, json={"name": "support", "template": "customer_support"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["labels"] == {"production": 1}

    v2 = await client.post(
        "/v1/prompts/support/versions",
        headers=acme,
        json={
            "messages": [{"role": "system", "content": "You help {{ customer }} of {{ company }}."}],
            "variables": [{"name": "customer"}, {"name": "company", "default": "Acme"}],
            "parameters": {"temperature": 0.2},
            "variants": [
                {"language": "de", "messages": [{"role": "system", "content": "Hallo {{ customer }}."}]}
            ],
            "description": "personal greeting",
            "labels": ["staging"],
        },
    )
    assert v2.status_code == 201, v2.text
    assert (v2.json()["version"], v2.json()["labels"], v2.json()["object"]) == (
        2,
        ["staging"],
        "prompt.version",
    )
    staged = (await client.get("/v1/prompts/support/versions/staging", headers=acme)).json()
    assert staged["version"] == 2 and staged["parameters"]["temperature"] == pytest.approx(0.2)

    diff = (await client.get("/v1/prompts/support/diff?from_version=1&to_version=2", headers=acme)).json()
    assert "messages" in diff["changed_fields"] and diff["diff"].startswith("--- support@1")

    preview = await client.post(
        "/v1/prompts/support/render",
        headers=acme,
        json={
            "label": "staging",
            "variables": {"customer": "Ada"},
            "messages": [
                {"role": "user", "content": "Wo ist meine Bestellung? Sie ist immer noch nicht da."}
            ],
        },
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["messages"][0] == {"role": "system", "content": "Hallo Ada."}
    assert (preview.json()["variant"], preview.json()["language_detected"]) == ("de", True)

    missing = await client.post("/v1/prompts/support/render", headers=acme, json={"label": "staging"})
    error = _error(missing, 400)
    assert (error["param"], error["code"], error["type"]) == (
        "variables.customer",
        "missing_variable",
        "invalid_request_error",
    )

    moved = await client.put("/v1/prompts/support/labels/production", headers=acme, json={"version": 2})
    assert (moved.json()["labels"]["production"], moved.json()["previous_version"]) == (2, 1)

    listed = (await client.get("/v1/prompts", headers=acme)).json()
    assert [p["name"] for p in listed["data"]] == ["support"] and listed["object"] == "list"


async def test_errors_use_the_openai_envelope_and_name_the_field(gateway: Any) -> None:
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    unsafe = await client.post(
        "/v1/prompts",
        headers=acme,
        json={"name": "x", "messages": [{"role": "system", "content": "{{ ''.__class__.__mro__ }}"}]},
    )
    assert (_error(unsafe, 400)["param"], _error(unsafe, 400)["code"]) == (
        "messages[0].content",
        "unsafe_template",
    )

    no_messages = await client.post(
        "/v1/prompts", headers=acme, json={"name": "x", "variables": [{"name": "a"}]}
    )
    assert _error(no_messages, 400)["param"] == "messages"
    typo = await client.post("/v1/prompts", headers=acme, json={"name": "x", "mesages": []})
    assert _error(typo, 400)["param"] == "mesages"
    assert _error(await client.get("/v1/prompts/nope", headers=acme), 404)["code"] == "prompt_not_found"
    bad_role = await client.post(
        "/v1/prompts", headers=acme, json={"name": "y", "messages": [{"role": "bot", "content": ""}]}
    )
    assert _error(bad_role, 400)["param"] == "messages[0].role"
    await client.post("/v1/prompts", headers=acme, json={"name": "dup"})
    assert (
        _error(await client.post("/v1/prompts", headers=acme, json={"name": "dup"}), 409)["param"] == "name"
    )
    # Assistant creation checks the model with the engine, which is not running here: 503, retry later.
    response = await client.post(
        "/v1/assistants", headers=acme, json={"name": "a", "base_model": "tuneway-tiny", "prompt": "dup"}
    )
    assert _error(response, 503)["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "1"

    # Issue 12: each of these was a 500 (int32 overflow on the wire, int("¹"), UTF-8 of a lone surrogate).
    for method, path, body, status, param in OUT_OF_RANGE:
        # json.dumps escapes a lone surrogate (valid JSON), which httpx's UTF-8 encoding would refuse.
        content = None if body is None else json.dumps(body)
        headers = {**acme, "Content-Type": "application/json"}
        response = await client.request(method, path, headers=headers, content=content)
        assert response.status_code == status, (method, path, body, response.text)
        assert _error(response, status)["param"] == param, (method, path, body)


BIG = 3_000_000_000
SYSTEM = [{"role": "system", "content": "Be brief."}]
OUT_OF_RANGE: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
    ("GET", f"/v1/prompts/dup/versions/{BIG}", None, 404, "version"),
    ("GET", "/v1/prompts/dup/versions/0", None, 404, "version"),
    # "¹" (superscript one) is a digit to str.isdigit(), not to int(): it is a label, and no such label.
    ("GET", "/v1/prompts/dup/versions/%C2%B9", None, 404, "label"),
    ("GET", f"/v1/prompts/dup/diff?from_version=1&to_version={BIG}", None, 400, "to_version"),
    ("PUT", "/v1/prompts/dup/labels/staging", {"version": BIG}, 400, "version"),
    ("POST", "/v1/prompts/dup/render", {"version": BIG}, 400, "version"),
    (
        "POST",
        "/v1/prompts/dup/versions",
        {"messages": SYSTEM, "parameters": {"max_tokens": 2**31}},
        400,
        "parameters.max_tokens",
    ),
    (
        "POST",
        "/v1/prompts/dup/versions",
        {"messages": SYSTEM, "parameters": {"top_p": 5e-324}},
        400,
        "parameters.top_p",
    ),
    (
        "POST",
        "/v1/prompts/dup/versions",
        {"messages": SYSTEM, "parameters": {"stop": [""]}},
        400,
        "parameters.stop[0]",
    ),
    (
        "POST",
        "/v1/prompts",
        {"name": "z", "messages": [{"role": "system", "content": "\ud800"}]},
        400,
        "messages[0].content",
    ),
]


async def test_experiments_over_http_and_tenant_isolation(gateway: Any) -> None:
    client, acme, globex = (
        gateway.app_client,
        gateway.auth(gateway.acme_key),
        gateway.auth(gateway.globex_key),
    )
    system = [{"role": "system", "content": "A"}]
    await client.post("/v1/prompts", headers=acme, json={"name": "p", "messages": system})
    await client.post(
        "/v1/prompts/p/versions", headers=acme, json={"messages": [{"role": "system", "content": "B"}]}
    )
    body = {
        "name": "a/b",
        "prompt": "p",
        "variants": [{"name": "a", "version": 1}, {"name": "b", "version": 2}],
    }
    created = await client.post("/v1/experiments", headers=acme, json=body)
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert (experiment["status"], experiment["label"], experiment["winner"]) == ("draft", "production", None)
    path = f"/v1/experiments/{experiment['id']}"
    assert (await client.post(f"{path}/start", headers=acme)).json()["status"] == "running"
    assert _error(await client.post(f"{path}/stop", headers=acme), 400)["param"] == "action"
    assert (await client.post(f"{path}/pause", headers=acme)).json()["status"] == "paused"

    # Another tenant sees none of it.
    assert (await client.get("/v1/prompts", headers=globex)).json()["data"] == []
    assert (await client.get("/v1/experiments", headers=globex)).json()["data"] == []
    assert (await client.get(path, headers=globex)).status_code == 404
    assert (await client.post(f"{path}/resume", headers=globex)).status_code == 404
    assert (await client.post(f"{path}/promote", headers=globex, json={"variant": "b"})).status_code == 404

    promoted = (await client.post(f"{path}/promote", headers=acme, json={"variant": "b"})).json()
    assert (promoted["status"], promoted["winner"], promoted["prompt_labels"]) == (
        "completed",
        "b",
        {"production": 2},
    )
    assert (
        _error(await client.post(f"{path}/start", headers=acme), 409)["code"] == "invalid_status_transition"
    )
    deleted = await client.delete(path, headers=acme)
    assert deleted.json() == {"id": experiment["id"], "object": "experiment.deleted", "deleted": True}


async def test_the_statuses_schemathesis_met_are_in_the_document(gateway: Any) -> None:
    # Issue 12 §6: both answers were right but undocumented (status_code_conformance failed on them).
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    paths = (await client.get("/openapi.json")).json()["paths"]
    unknown = await client.get("/v1/experiments", headers=acme, params={"prompt": "null"})
    assert _error(unknown, 404)["code"] == "prompt_not_found"
    assert "404" in paths["/v1/experiments"]["get"]["responses"]
    created = await client.post(
        "/v1/prompts", headers=acme, json={"name": "faq", "template": "customer_support"}
    )
    assert created.status_code == 201, created.text
    removed = await client.delete("/v1/prompts/faq/labels/production", headers=acme)
    assert removed.status_code == 200, removed.text
    unlabelled = await client.post("/v1/prompts/faq/render", headers=acme, json={})
    assert _error(unlabelled, 409)["code"] == "label_not_found"
    assert "409" in paths["/v1/prompts/{name}/render"]["post"]["responses"]
