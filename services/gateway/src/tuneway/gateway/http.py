"""What the routes of every domain share: JSON responses rendered with orjson (no response models on the
way out), and OpenAI's list, cursor page and deletion objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import orjson
from starlette.responses import Response
from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

Item = TypeVar("Item")
# A page's items carry their `id`.
Identified = TypeVar("Identified", bound=Mapping[str, Any])


class ListObject(TypedDict, Generic[Item]):
    """OpenAI's list envelope."""

    object: Literal["list"]
    data: list[Item]


class Page(TypedDict, Generic[Item]):
    """OpenAI's cursor page: a list with its first and last ids, and whether more follow."""

    object: Literal["list"]
    data: list[Item]
    first_id: str | None
    last_id: str | None
    has_more: bool


class Deleted(TypedDict):
    """The answer to a deletion: what was deleted, by id and object type."""

    id: str
    object: str
    deleted: bool


def json_response(body: Any, status: int = 200) -> Response:
    """`body` as JSON, serialized once by orjson."""
    return Response(orjson.dumps(body), status, media_type="application/json")


def list_object(data: Sequence[Item]) -> ListObject[Item]:
    """OpenAI's list envelope of `data`."""
    return {"object": "list", "data": list(data)}


def page(data: Sequence[Identified], has_more: bool) -> Page[Identified]:
    """OpenAI's cursor page of `data`."""
    return {
        "object": "list",
        "data": list(data),
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def deleted(id_: str, object_: str) -> Deleted:
    """What was deleted."""
    return {"id": id_, "object": object_, "deleted": True}
