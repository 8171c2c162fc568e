"""What the OpenAPI document says beyond what FastAPI derives from the routes.

Routes document their success schema and the errors of their domain with `responses=` (documentation
only: nothing is validated on the way out, the hot path included); `document` adds what the gateway's
own machinery gives every route (400 for invalid parameters or bodies, 413 for bodies past the limit,
401 and a key-store 503 wherever the bearer key is required) and drops FastAPI's 422, which the gateway
never sends.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from tuneway.gateway.errors import ErrorEnvelope

Responses = dict[int | str, dict[str, Any]]

# A call to a service behind the gateway: it may be out of capacity, unreachable, or late.
UPSTREAM = (429, 503, 504)

_ERRORS = {
    400: "Invalid request: `param` names the offending field and `code` says why.",
    401: "Missing, unknown or revoked API key.",
    403: "The key's role may not do this: admin routes need an admin key.",
    404: "Not found (another tenant's resource is not found either).",
    409: "The request conflicts with an existing name or with the resource's current state.",
    413: "The request body, or the uploaded file, is over its size limit.",
    429: "A service behind the gateway is out of capacity; retry after Retry-After.",
    503: "A service behind the gateway, or the API key store, is unavailable; retry after Retry-After.",
    504: "A service behind the gateway did not answer in time.",
}
# Objects that only server-sent events carry, added to the components by `document`.
_EVENT_MODELS: dict[str, Any] = {}


def errors(*statuses: int) -> Responses:
    """Error responses in OpenAI's envelope."""
    return {status: {"model": ErrorEnvelope, "description": _ERRORS[status]} for status in statuses}


# How the chat completion streams end and fail (the Responses API's own events say it differently).
_CHAT_STREAM = (
    "the stream ends with `data: [DONE]`. An error after the stream started arrives as an event whose data "
    "is the ErrorEnvelope."
)


def documented(
    success: Any, *statuses: int, status: int = 200, events: Any = None, stream: str | None = None
) -> Responses:
    """`responses=` of a route: its success schema (`application/json`; with `events`, also a
    `text/event-stream` whose events carry `events` objects, ending and failing as `stream` says, or as
    chat completions do when it is None) and its error responses."""
    ok: dict[str, Any] = {"model": success}
    if events is not None:
        _EVENT_MODELS[events.__name__] = events
        ok["content"] = {"text/event-stream": {"itemSchema": _event_schema(events.__name__, stream)}}
    return {status: ok, **errors(*statuses)}


def _json_data(name: str) -> dict[str, Any]:
    """An event's `data` holding a JSON `name`."""
    return {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": {"$ref": f"#/components/schemas/{name}"},
    }


def _event_schema(name: str, stream: str | None) -> dict[str, Any]:
    """A server-sent event whose `data` is a JSON `name`; in a chat-style stream (`stream` None) it may
    also be the ErrorEnvelope or the closing `[DONE]`, which schemathesis checks each event against."""
    data: dict[str, Any] = _json_data(name)
    if stream is None:
        stream = _CHAT_STREAM
        data = {"anyOf": [data, _json_data(ErrorEnvelope.__name__), {"const": "[DONE]"}]}
    return {
        "type": "object",
        "description": f"Each event's data is a {name}; {stream}",
        "required": ["data"],
        "properties": {"data": data, "event": {"type": "string"}, "id": {"type": "string"}},
    }


def form_body(
    required: list[str], properties: dict[str, Any], json_schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`openapi_extra` of a route that parses its form itself (multipart, with a `file` part): the form's
    fields besides the file, and the JSON body it also takes, if any."""
    content: dict[str, Any] = {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": required,
                "properties": {"file": {"type": "string", "format": "binary"}, **properties},
            }
        }
    }
    if json_schema is not None:
        content["application/json"] = {"schema": json_schema}
    return {"requestBody": {"required": True, "content": content}}


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, built on first use (FastAPI's `app.openapi`)."""
    if app.openapi_schema is None:
        spec = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for model in (ErrorEnvelope, *_EVENT_MODELS.values()):
            schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        for path in spec["paths"].values():
            for operation in path.values():
                _add_gateway_errors(operation)
        app.openapi_schema = spec
    return app.openapi_schema


def _add_gateway_errors(operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    responses.pop("422", None)
    statuses = []
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append(400)
    if "requestBody" in operation:
        statuses.append(413)
    if operation.get("security"):
        statuses += [401, 503]
    for status, response in errors(*statuses).items():
        responses.setdefault(str(status), _response(response))


def _response(response: dict[str, Any]) -> dict[str, Any]:
    """An error response as it appears in the document (FastAPI has rendered the others already)."""
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    return {"description": response["description"], "content": {"application/json": {"schema": envelope}}}
