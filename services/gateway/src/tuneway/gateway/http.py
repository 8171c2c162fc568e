"""What the routes of every domain share: JSON responses rendered with orjson (no response models on the
way out), and OpenAI's list, cursor page and deletion objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response


def json_response(body: Any, status: int = 200) -> Response:
    """`body` as JSON, serialized once by orjson."""
    return Response(orjson.dumps(body), status, media_type="application/json")


def list_object(data: Sequence[Any], **extra: Any) -> dict[str, Any]:
    """OpenAI's list envelope; `extra` adds top-level fields."""
    return {"object": "list", "data": list(data), **extra}


def page(data: Sequence[Any], has_more: bool) -> dict[str, Any]:
    """OpenAI's cursor page: the list with its first and last ids, and whether more follow."""
    return {
        "object": "list",
        "data": list(data),
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def deleted(id_: str, object_: str) -> dict[str, Any]:
    """The answer to a deletion: what was deleted, by id and object type."""
    return {"id": id_, "object": object_, "deleted": True}
