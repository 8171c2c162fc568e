"""Files as OpenAI defines them: upload, list, retrieve, content, delete; fine-tune ones reach the trainer."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.api.trainer.v1 import trainer_pb2 as tpb
from tuneway.core.artifacts import local_path
from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.files import repository as repo
from tuneway.gateway.files.store import FileStore
from tuneway.gateway.files.tables import File
from tuneway.gateway.files.uploads import receive_upload

log = logging.getLogger(__name__)

# OpenAI's upload purposes (the SDK's FilePurpose).
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
FINE_TUNE = "fine-tune"
MAX_LIST_LIMIT = 10_000


def new_file_id() -> str:
    """file-<24 hex>."""
    return f"file-{secrets.token_hex(12)}"


def file_not_found(file_id: str, param: str = "file_id") -> NotFoundError:
    """OpenAI's wording for a file that does not exist (or belongs to another tenant)."""
    return NotFoundError(f"No such File object: {file_id}", param=param, code="file_not_found")


def _check_purpose(purpose: str | None) -> str:
    if not purpose:
        raise InvalidArgumentError(
            "Missing required parameter: 'purpose'.", param="purpose", code="missing_required_parameter"
        )
    if purpose not in PURPOSES:
        raise InvalidArgumentError(
            f"Invalid value for 'purpose': '{purpose}'. Supported values are: "
            + ", ".join(f"'{p}'" for p in PURPOSES)
            + ".",
            param="purpose",
            code="invalid_value",
        )
    return purpose


class FileService:
    """Stores files per tenant: metadata in the gateway database, bytes in the artifact store."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: FileStore,
        trainer: TrainerClient,
        max_bytes: int,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._trainer = trainer
        self._max_bytes = max_bytes

    async def upload(self, tenant_id: str, chunks: AsyncIterator[bytes], content_type: str) -> File:
        """Streams a multipart upload into the store; nothing is kept when any step fails."""
        file_id = new_file_id()
        writer = self._store.writer(tenant_id, file_id, self._max_bytes)
        try:
            upload = await receive_upload(chunks, content_type, writer)
            purpose = _check_purpose(upload.fields.get("purpose"))
            if upload.filename is None:
                raise InvalidArgumentError(
                    "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"
                )
            if any(name.startswith("expires_after") for name in upload.fields):
                raise InvalidArgumentError(
                    "Invalid value for 'expires_after': file expiry is not supported; files are kept "
                    "until deleted.",
                    param="expires_after",
                    code="invalid_value",
                )
            await writer.commit()
        except BaseException:
            # BaseException too: the body-limit middleware aborts a too-long stream with one.
            writer.discard()
            raise
        record = File(
            id=file_id,
            tenant_id=tenant_id,
            filename=upload.filename,
            purpose=purpose,
            bytes=writer.size,
            sha256=writer.sha256,
            uri=self._store.uri(writer.final),
            created_at=int(time.time()),
            expires_at=None,
        )
        saved = False
        try:
            async with self._sessions() as session:
                session.add(record)
                await session.commit()
            saved = True
            if purpose == FINE_TUNE:
                request = tpb.RegisterDatasetRequest(dataset=_dataset(record))
                await self._trainer.call(self._trainer.stub.RegisterDataset, request)
        except BaseException:
            await self._forget(record, saved)
            raise
        return record

    async def _forget(self, record: File, saved: bool) -> None:
        """Undoes a half-finished upload: the row (if saved) and the bytes."""
        try:
            if saved:
                async with self._sessions() as session:
                    stored = await repo.get_file(session, record.tenant_id, record.id)
                    if stored is not None:
                        await session.delete(stored)
                        await session.commit()
        finally:
            await self._store.remove(local_path(record.uri))

    async def get(self, tenant_id: str, file_id: str, param: str = "file_id") -> File:
        """The tenant's file, or NotFoundError naming `param`."""
        async with self._sessions() as session:
            record = await repo.get_file(session, tenant_id, file_id)
        if record is None:
            raise file_not_found(file_id, param)
        return record

    async def require_fine_tune(self, tenant_id: str, file_id: str, param: str) -> File:
        """The tenant's file named in a request body for training; 400 naming `param` when it is missing
        (OpenAI's answer for an unknown training_file) or not `fine-tune`."""
        async with self._sessions() as session:
            record = await repo.get_file(session, tenant_id, file_id)
        if record is None:
            raise InvalidArgumentError(f"invalid {param}: {file_id}", param=param, code="invalid_value")
        return _fine_tune(record, param)

    async def get_fine_tune(self, tenant_id: str, file_id: str) -> File:
        """The tenant's file named in the path, for training: 404 like every route when it is missing,
        400 when it is not `fine-tune`."""
        return _fine_tune(await self.get(tenant_id, file_id), "file_id")

    async def list(
        self, tenant_id: str, *, purpose: str | None, after: str | None, limit: int, order: str
    ) -> tuple[Sequence[File], bool]:
        """A page of the tenant's files (newest first unless order=asc) and whether more follow."""
        async with self._sessions() as session:
            cursor = None
            if after:
                cursor = await repo.get_file(session, tenant_id, after)
                if cursor is None:
                    raise InvalidArgumentError(
                        f"Invalid value for 'after': no file '{after}'.", param="after", code="invalid_value"
                    )
            rows = await repo.list_files(
                session, tenant_id, purpose=purpose, after=cursor, limit=limit + 1, descending=order == "desc"
            )
        return rows[:limit], len(rows) > limit

    async def content(self, tenant_id: str, file_id: str) -> tuple[Path, File]:
        """Where the tenant's file's bytes are, with its record."""
        record = await self.get(tenant_id, file_id)
        return local_path(record.uri), record

    async def delete(self, tenant_id: str, file_id: str) -> None:
        """Deletes the file: the trainer forgets the dataset first, so a trainer outage keeps it whole."""
        record = await self.get(tenant_id, file_id)
        if record.purpose == FINE_TUNE:
            try:
                request = tpb.DeleteDatasetRequest(tenant_id=tenant_id, file_id=file_id)
                await self._trainer.call(self._trainer.stub.DeleteDataset, request)
            except NotFoundError:
                log.info("trainer did not know dataset %s; deleting the file anyway", file_id)
        async with self._sessions() as session:
            stored = await repo.get_file(session, tenant_id, file_id)
            if stored is not None:
                await session.delete(stored)
                await session.commit()
        await self._store.remove(local_path(record.uri))


def _fine_tune(record: File, param: str) -> File:
    """The record, if it was uploaded for fine-tuning; 400 naming `param` otherwise."""
    if record.purpose != FINE_TUNE:
        raise InvalidArgumentError(
            f"invalid {param}: {record.id} was uploaded with purpose '{record.purpose}'; "
            f"fine-tuning needs purpose '{FINE_TUNE}'.",
            param=param,
            code="invalid_value",
        )
    return record


def _dataset(record: File) -> tpb.Dataset:
    return tpb.Dataset(
        file_id=record.id,
        tenant_id=record.tenant_id,
        filename=record.filename,
        uri=record.uri,
        sha256=record.sha256,
        bytes=record.bytes,
        created_at=record.created_at,
    )
