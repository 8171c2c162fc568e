"""Files the gateway writes itself (a batch's output and error files), stored like uploads: metadata in
the gateway database, bytes in the artifact store, tenant-scoped, served by /v1/files/{id}/content."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.artifacts import local_path
from tuneway.gateway.files import repository as repo
from tuneway.gateway.files.service import file_not_found, new_file_id
from tuneway.gateway.files.store import FileStore
from tuneway.gateway.files.tables import File

# OpenAI's purpose of the files a batch produces; not one a client may upload.
BATCH_OUTPUT = "batch_output"


class GeneratedFiles:
    """Reads a tenant's stored files and writes new ones from bytes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: FileStore) -> None:
        self._sessions = sessions
        self._store = store

    async def path(self, tenant_id: str, file_id: str) -> Path:
        """Where the tenant's file's bytes are; NotFoundError when it is gone (or another tenant's)."""
        async with self._sessions() as session:
            record = await repo.get_file(session, tenant_id, file_id)
        if record is None:
            raise file_not_found(file_id)
        return local_path(record.uri)

    async def write(self, tenant_id: str, filename: str, purpose: str, data: bytes) -> File:
        """Stores `data` (flushed to disk) and returns its row for the caller to add in its own
        transaction: the file exists for clients only once what refers to it is committed too."""
        file_id = new_file_id()
        writer = self._store.writer(tenant_id, file_id, len(data))
        try:
            await writer.write(data)
            await writer.commit()
        except BaseException:
            writer.discard()
            raise
        return File(
            id=file_id,
            tenant_id=tenant_id,
            filename=filename,
            purpose=purpose,
            bytes=writer.size,
            sha256=writer.sha256,
            uri=self._store.uri(writer.final),
            created_at=int(time.time()),
            expires_at=None,
        )
