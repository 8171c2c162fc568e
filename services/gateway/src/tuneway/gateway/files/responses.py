"""File records as OpenAI's `file` objects."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.gateway.files.tables import File


class FileObject(TypedDict):
    """OpenAI's `file`."""

    id: str
    object: Literal["file"]
    bytes: int
    created_at: int
    expires_at: int | None
    filename: str
    purpose: str
    status: Literal["processed"]
    status_details: None


def file_object(record: File) -> FileObject:
    """OpenAI's `file` object."""
    return {
        "id": record.id,
        "object": "file",
        "bytes": record.bytes,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "filename": record.filename,
        "purpose": record.purpose,
        # Deprecated by OpenAI but still sent: a stored file has been processed.
        "status": "processed",
        "status_details": None,
    }
