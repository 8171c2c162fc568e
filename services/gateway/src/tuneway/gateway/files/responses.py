"""File records as OpenAI's `file` objects."""

from __future__ import annotations

from typing import Any

from tuneway.gateway.files.tables import File


def file_object(record: File) -> dict[str, Any]:
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
