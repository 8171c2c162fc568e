"""The OpenAPI document tells the truth: success schemas, the errors in OpenAI's envelope, server-sent
events where a route streams, the bearer key where it is required, and no 422 the gateway never sends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from tuneway.gateway.app import create_app
from tuneway.gateway.errors import ErrorEnvelope, error_body
from tuneway.gateway.settings import GatewaySettings

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
UNAUTHENTICATED = {("get", "/healthz"), ("get", "/readyz")}


@pytest.fixture
def app(gateway_settings: Callable[..., GatewaySettings]) -> Any:
    return create_app(gateway_settings())


@pytest.fixture
def document(app: Any) -> dict[str, Any]:
    return app.openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def _chat_style_events(content: dict[str, Any], name: str) -> None:
    """Each event's data is a JSON `name`, an error's envelope, or the closing [DONE], and nothing else."""
    data = content["text/event-stream"]["itemSchema"]["properties"]["data"]
    json_data, error, done = data["anyOf"]
    assert json_data["contentSchema"] == {"$ref": f"#/components/schemas/{name}"}
    assert json_data["contentMediaType"] == error["contentMediaType"] == "application/json"
    assert error["contentSchema"] == ENVELOPE
    assert done == {"const": "[DONE]"}


def test_chat_completions_document_json_and_event_stream_and_every_error(document: dict[str, Any]) -> None:
    responses = document["paths"]["/v1/chat/completions"]["post"]["responses"]
    content = responses["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    _chat_style_events(content, "ChatCompletionChunk")
    for status in ("400", "401", "404", "409", "413", "429", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == ENVELOPE, status
    schemas = document["components"]["schemas"]
    assert {"ChatCompletion", "ChatCompletionChunk", "Served", "ErrorEnvelope"} <= set(schemas)
    assert schemas["ChatCompletion"]["properties"]["object"]["const"] == "chat.completion"


def test_completions_document_json_and_event_stream(document: dict[str, Any]) -> None:
    responses = document["paths"]["/v1/completions"]["post"]["responses"]
    content = responses["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/TextCompletion"}
    _chat_style_events(content, "TextCompletion")
    for status in ("400", "401", "404", "413", "429", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == ENVELOPE, status
    schemas = document["components"]["schemas"]
    assert schemas["TextCompletion"]["properties"]["object"]["const"] == "text_completion"
    assert "CompletionLogprobs" in schemas


def test_the_bearer_key_is_required_on_v1_and_admin_routes_only(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A tuneway API key (sk-tw-...), from /admin/keys.",
    }
    for method, path, operation in _operations(document):
        if (method, path) in UNAUTHENTICATED:
            assert "security" not in operation and "401" not in operation["responses"], path
        else:
            assert path.startswith(("/v1/", "/admin/")), path
            assert operation["security"] == [{"bearerAuth": []}], path
            assert operation["responses"]["401"]["content"]["application/json"]["schema"] == ENVELOPE
    for _, path, operation in _operations(document):
        if path.startswith("/admin/"):
            assert "403" in operation["responses"], path


def test_every_route_documents_its_success_and_errors_in_the_envelope(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        assert "422" not in responses, (method, path)
        [success] = [status for status in responses if status.startswith("2")]
        assert responses[success]["content"], (method, path)
        for content in responses[success]["content"].values():
            assert content.get("schema") or content.get("itemSchema"), (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status >= "400" and path != "/readyz":
                assert response["content"]["application/json"]["schema"] == ENVELOPE, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_job_events_document_their_stream_and_file_content_its_bytes(document: dict[str, Any]) -> None:
    events = document["paths"]["/v1/fine_tuning/jobs/{fine_tuning_job_id}/events"]["get"]["responses"]["200"]
    assert set(events["content"]) == {"application/json", "text/event-stream"}
    _chat_style_events(events["content"], "JobEvent")
    content = document["paths"]["/v1/files/{file_id}/content"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/octet-stream"}


def test_documenting_adds_no_validation_on_the_way_out(app: Any) -> None:
    # Routes return their rendered Response: responses= documents, a response_model would validate.
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    assert routes and all(route.response_model is None for route in routes)


def test_the_documented_envelope_is_the_one_sent() -> None:
    body = orjson.loads(error_body("nope", "invalid_request_error", "model", "model_not_found"))
    assert TypeAdapter(ErrorEnvelope).validate_python(body, strict=True) == body
