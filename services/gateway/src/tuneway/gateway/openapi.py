"""What the OpenAPI document says beyond what FastAPI derives from the routes."""

from __future__ import annotations

from typing import Any


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
