"""Ingestion: read and chunk a file up front (errors change nothing), then embed and write in the background.

A document serves one revision at a time. A (re-)ingestion writes its chunks under a new revision,
then flips the document's served revision in SQL in one conditional update, then deletes older
revisions' points. Searches keep only points of the served revision, so no reader ever sees a stale
or half-written chunk, and a failed re-ingestion leaves the previous content in service.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.artifacts import local_path
from tuneway.core.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from tuneway.retriever import repository as repo
from tuneway.retriever.chunking import Chunk, chunk_sections
from tuneway.retriever.domain import Document
from tuneway.retriever.embedder import Embedder
from tuneway.retriever.extract import Parsed, parse_file
from tuneway.retriever.knowledge_bases import KnowledgeBaseCatalog, check_metadata
from tuneway.retriever.metrics import CHUNKS_INGESTED, INGESTIONS
from tuneway.retriever.models import DocumentRow, KnowledgeBaseRow
from tuneway.retriever.vectors import ChunkPoint, VectorStore

log = logging.getLogger(__name__)

IN_PROGRESS, COMPLETED, FAILED = "in_progress", "completed", "failed"


@dataclass(frozen=True)
class Upload:
    """What a client sent: the bytes (or where they are) and the document fields it set."""

    data: bytes | None
    uri: str
    filename: str
    format: str
    title: str
    source: str
    metadata: Mapping[str, str]


@dataclass
class Job:
    """One document's chunks waiting to be embedded under `revision`, and what it becomes when done."""

    tenant_id: str
    kb_id: str
    document_id: str
    revision: int
    chunks: list[Chunk]
    final: dict[str, object] = field(default_factory=dict)


class Superseded(Exception):
    """The document was re-ingested or deleted while this job ran; its points are dropped."""


@dataclass(frozen=True)
class IngestLimits:
    """Bounds of one ingestion."""

    max_bytes: int
    max_chunks: int
    batch_size: int
    artifact_root: Path


class Ingestor:
    """Prepares uploads, runs their embedding jobs and keeps each document's served revision."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vectors: VectorStore,
        embedder: Embedder,
        catalog: KnowledgeBaseCatalog,
        limits: IngestLimits,
    ) -> None:
        self._sessions = sessions
        self._vectors = vectors
        self._embedder = embedder
        self._catalog = catalog
        self._limits = limits
        self.running: set[asyncio.Task[None]] = set()
        self.running_documents: set[str] = set()

    async def _read(self, upload: Upload) -> bytes:
        """The upload's bytes, from the request or from the artifact store (within its root only)."""
        limit = self._limits.max_bytes
        if upload.data is not None:
            data = upload.data
        elif upload.uri:
            path = local_path(upload.uri).resolve()
            if not path.is_relative_to(self._limits.artifact_root.resolve()):
                raise PermissionDeniedError(
                    "The retriever reads artifacts from its artifact store only.", param="uri"
                )
            if not path.is_file():
                raise InvalidArgumentError(
                    "The file's content is missing from the artifact store.", param="file_id"
                )
            if path.stat().st_size > limit:
                raise InvalidArgumentError(f"The file is larger than {limit} bytes.", param="file_id")
            data = await asyncio.to_thread(path.read_bytes)
        else:
            raise InvalidArgumentError("Send a file (or a file_id) to add.", param="file")
        if len(data) > limit:
            raise InvalidArgumentError(f"The file is larger than {limit} bytes.", param="file")
        return data

    def _prepare(self, kb: KnowledgeBaseRow, data: bytes, upload: Upload) -> list[tuple[Parsed, list[Chunk]]]:
        """Parses and chunks; runs in a worker thread (PDFs and big files take a while)."""
        prepared = []
        for parsed in parse_file(data, upload.filename, upload.format):
            chunks = chunk_sections(
                parsed.sections, self._embedder.tokenizer, kb.chunk_size, kb.chunk_overlap
            )
            if not chunks:
                raise InvalidArgumentError(f"'{parsed.title}' contains no text to index.", param="file")
            prepared.append((parsed, chunks))
        total = sum(len(c) for _, c in prepared)
        if total > self._limits.max_chunks:
            raise InvalidArgumentError(
                f"The file makes {total} chunks; at most {self._limits.max_chunks} are accepted per file.",
                param="file",
            )
        return prepared

    async def add(
        self, tenant_id: str, kb_id: str, document_id: str, upload: Upload, wait: bool
    ) -> list[Document]:
        """Adds the file's documents (or replaces `document_id`'s content); see the module docstring."""
        kb = await self._catalog.row(tenant_id, kb_id)
        metadata = check_metadata(upload.metadata)
        data = await self._read(upload)
        prepared = await asyncio.to_thread(self._prepare, kb, data, upload)
        if document_id and len(prepared) != 1:
            raise InvalidArgumentError(
                "A document is replaced by a file of one document, not JSONL.", param="file"
            )
        sha256 = hashlib.sha256(data).hexdigest()
        now = int(time.time())
        jobs: list[Job] = []
        rows: list[DocumentRow] = []
        async with self._sessions() as session:
            for parsed, chunks in prepared:
                final: dict[str, object] = {
                    "title": (upload.title if len(prepared) == 1 else "") or parsed.title,
                    "source": parsed.source or upload.source or upload.filename,
                    "filename": upload.filename,
                    "format": parsed.format,
                    "meta": {**metadata, **parsed.metadata},
                    "bytes": len(data),
                    "sha256": sha256,
                }
                if document_id:
                    row = await self._begin_replace(session, tenant_id, kb_id, document_id, len(chunks), now)
                    if not metadata:  # a replacement without metadata keeps the document's
                        final["meta"] = {**row.meta, **parsed.metadata}
                else:
                    row = _new_row(tenant_id, kb_id, final, len(chunks), now)
                    session.add(row)
                rows.append(row)
                jobs.append(Job(tenant_id, kb_id, row.id, row.pending_revision, chunks, final))
            await session.commit()
        task = asyncio.create_task(self._run_all(jobs))
        self.running.add(task)
        self.running_documents.update(j.document_id for j in jobs)
        task.add_done_callback(self.running.discard)
        if wait:
            # Shielded: a client that stops waiting does not stop the ingestion.
            await asyncio.shield(task)
            async with self._sessions() as session:
                fresh = [await repo.get_document(session, tenant_id, kb_id, r.id) for r in rows]
            return [repo.to_document(r) for r in fresh if r is not None]
        return [repo.to_document(r) for r in rows]

    async def _begin_replace(
        self, session: AsyncSession, tenant_id: str, kb_id: str, document_id: str, total: int, now: int
    ) -> DocumentRow:
        """Marks the document as re-ingesting under a fresh revision (its old content stays served)."""
        # Locked so two concurrent replacements cannot pick the same new revision.
        row = await repo.get_document(session, tenant_id, kb_id, document_id, lock=True)
        if row is None:
            raise NotFoundError(
                f"No document with id '{document_id}'.", param="document_id", code="document_not_found"
            )
        # A running ingestion of the old content notices the new pending revision and stands down.
        row.pending_revision = max(row.revision, row.pending_revision) + 1
        row.status, row.error = IN_PROGRESS, ""
        row.chunks_total, row.chunks_done, row.updated_at = total, 0, now
        return row

    async def _run_all(self, jobs: list[Job]) -> None:
        try:
            for job in jobs:
                await self._run(job)
        finally:
            self.running_documents.difference_update(j.document_id for j in jobs)

    async def _run(self, job: Job) -> None:
        """Embeds and writes the job's chunks batch by batch, then makes its revision the served one."""
        started = time.perf_counter()
        try:
            size = self._limits.batch_size
            for start in range(0, len(job.chunks), size):
                batch = job.chunks[start : start + size]
                vectors = await self._embedder.embed_in_thread([c.text for c in batch])
                await self._vectors.upsert([self._point(job, c) for c in batch], vectors)
                CHUNKS_INGESTED.inc(len(batch))
                await self._transition(job, chunks_done=start + len(batch), updated_at=int(time.time()))
            await self._transition(
                job,
                revision=job.revision,
                pending_revision=0,
                status=COMPLETED,
                chunk_count=len(job.chunks),
                updated_at=int(time.time()),
                **job.final,
            )
        except Superseded:
            INGESTIONS.labels("superseded").inc()
            await self._vectors.delete_revisions(job.tenant_id, job.document_id, only=job.revision)
            return
        except asyncio.CancelledError:
            raise  # shutting down: the next start repairs the document
        except Exception as error:
            log.exception("ingestion failed", extra={"document": job.document_id})
            INGESTIONS.labels("failed").inc()
            await self._fail(job, f"ingestion failed: {error}")
            return
        INGESTIONS.labels("completed").inc()
        log.info(
            "document ingested",
            extra={
                "document": job.document_id,
                "chunks": len(job.chunks),
                "seconds": time.perf_counter() - started,
            },
        )
        await self._vectors.delete_revisions(job.tenant_id, job.document_id, older_than=job.revision)

    def _point(self, job: Job, chunk: Chunk) -> ChunkPoint:
        final = job.final
        return ChunkPoint(
            tenant_id=job.tenant_id,
            knowledge_base_id=job.kb_id,
            document_id=job.document_id,
            revision=job.revision,
            index=chunk.index,
            text=chunk.text,
            title=str(final["title"]),
            source=str(final["source"]),
            metadata=dict(final["meta"]),  # type: ignore[call-overload]
        )

    async def _transition(self, job: Job, **values: object) -> None:
        """Updates the document only while this job is still its latest ingestion, else Superseded."""
        async with self._sessions() as session:
            current = await repo.update_ingestion(session, job.document_id, job.revision, **values)
            await session.commit()
        if not current:
            raise Superseded

    async def _fail(self, job: Job, message: str) -> None:
        """Records the failure (the served revision stays) and drops the job's points."""
        try:
            await self._transition(
                job, pending_revision=0, status=FAILED, error=message[:2000], updated_at=int(time.time())
            )
        except Superseded:
            pass
        await self._vectors.delete_revisions(job.tenant_id, job.document_id, only=job.revision)

    async def recover(self, stale_seconds: float) -> int:
        """Fails ingestions that no live job runs and that made no progress lately; drops their points."""
        cutoff = int(time.time() - stale_seconds)
        async with self._sessions() as session:
            rows = [
                r
                for r in await repo.interrupted(session)
                if r.id not in self.running_documents and r.updated_at <= cutoff
            ]
        for row in rows:
            job = Job(row.tenant_id, row.knowledge_base_id, row.id, row.pending_revision, [])
            await self._fail(job, "ingestion interrupted (the retriever stopped); add the document again")
        return len(rows)

    async def close(self) -> None:
        """Cancels running jobs (their documents are repaired by the next recovery)."""
        for task in list(self.running):
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)


def _new_row(tenant_id: str, kb_id: str, final: dict[str, object], total: int, now: int) -> DocumentRow:
    return DocumentRow(
        id=f"doc_{secrets.token_hex(12)}",
        tenant_id=tenant_id,
        knowledge_base_id=kb_id,
        status=IN_PROGRESS,
        error="",
        revision=0,
        pending_revision=1,
        chunks_total=total,
        chunks_done=0,
        chunk_count=0,
        created_at=now,
        updated_at=now,
        **final,
    )
