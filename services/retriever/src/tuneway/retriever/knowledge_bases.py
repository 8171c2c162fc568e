"""Knowledge bases: create with chunking settings and model, read with totals, delete with their chunks."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from tuneway.retriever import repository as repo
from tuneway.retriever.domain import KnowledgeBase
from tuneway.retriever.embedder import resolve_model
from tuneway.retriever.models import KnowledgeBaseRow
from tuneway.retriever.vectors import VectorStore

MAX_NAME = 128
MAX_METADATA = 16


@dataclass(frozen=True)
class ChunkLimits:
    """Defaults of new knowledge bases and the embedder's token limit."""

    default_size: int
    default_overlap: int
    max_tokens: int


def knowledge_base_not_found(kb_id: str, param: str = "knowledge_base_id") -> NotFoundError:
    """The error for a knowledge base that does not exist (or belongs to another tenant)."""
    return NotFoundError(
        f"No knowledge base with id '{kb_id}'.", param=param, code="knowledge_base_not_found"
    )


def check_metadata(metadata: Mapping[str, str], param: str = "metadata") -> dict[str, str]:
    """At most MAX_METADATA short string pairs (OpenAI's metadata rules)."""
    if len(metadata) > MAX_METADATA:
        raise InvalidArgumentError(f"'{param}' holds at most {MAX_METADATA} keys.", param=param)
    for key, value in metadata.items():
        if not key or len(key) > 64 or len(value) > 512:
            raise InvalidArgumentError(
                f"'{param}' keys are 1-64 characters and values at most 512.", param=param
            )
    return dict(metadata)


class KnowledgeBaseCatalog:
    """Knowledge bases of every tenant in SQL; their chunks are removed from Qdrant on delete."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], vectors: VectorStore, limits: ChunkLimits
    ) -> None:
        self._sessions = sessions
        self._vectors = vectors
        self._limits = limits

    def _chunking(self, size: int, overlap: int | None) -> tuple[int, int]:
        limits = self._limits
        size = size or limits.default_size
        if not 16 <= size <= limits.max_tokens:
            raise InvalidArgumentError(
                f"'chunk_size' must be between 16 and {limits.max_tokens} tokens (the embedder's limit).",
                param="chunk_size",
            )
        overlap = min(limits.default_overlap, size // 2) if overlap is None else overlap
        if not 0 <= overlap <= size // 2:
            raise InvalidArgumentError(
                "'chunk_overlap' must be between 0 and half of 'chunk_size'.", param="chunk_overlap"
            )
        return size, overlap

    async def create(
        self,
        tenant_id: str,
        name: str,
        description: str,
        chunk_size: int,
        chunk_overlap: int | None,
        embedding_model: str,
        metadata: Mapping[str, str],
    ) -> KnowledgeBase:
        """A new knowledge base; the name is unique within the tenant."""
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidArgumentError(f"'name' must be 1-{MAX_NAME} characters.", param="name")
        size, overlap = self._chunking(chunk_size, chunk_overlap)
        model = resolve_model(embedding_model)
        now = int(time.time())
        row = KnowledgeBaseRow(
            id=f"kb_{secrets.token_hex(12)}",
            tenant_id=tenant_id,
            name=name,
            description=description,
            chunk_size=size,
            chunk_overlap=overlap,
            embedding_model=model,
            meta=check_metadata(metadata),
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._sessions() as session:
                session.add(row)
                await session.commit()
        except IntegrityError:
            raise AlreadyExistsError(
                f"A knowledge base named '{name}' already exists.", param="name", code="already_exists"
            ) from None
        return repo.to_knowledge_base(row)

    async def row(self, tenant_id: str, kb_id: str, param: str = "knowledge_base_id") -> KnowledgeBaseRow:
        """The tenant's knowledge base row, or NotFoundError naming `param`."""
        async with self._sessions() as session:
            row = await repo.get_knowledge_base(session, tenant_id, kb_id)
        if row is None:
            raise knowledge_base_not_found(kb_id, param)
        return row

    async def get(self, tenant_id: str, kb_id: str) -> KnowledgeBase:
        """One knowledge base with its totals."""
        async with self._sessions() as session:
            row = await repo.get_knowledge_base(session, tenant_id, kb_id)
            if row is None:
                raise knowledge_base_not_found(kb_id, "id")
            documents, chunks = (await repo.knowledge_base_totals(session, tenant_id, [kb_id])).get(
                kb_id, (0, 0)
            )
        return repo.to_knowledge_base(row, documents, chunks)

    async def list(self, tenant_id: str) -> list[KnowledgeBase]:
        """The tenant's knowledge bases with their totals, newest first."""
        async with self._sessions() as session:
            rows = await repo.list_knowledge_bases(session, tenant_id)
            totals = await repo.knowledge_base_totals(session, tenant_id, [r.id for r in rows])
        return [repo.to_knowledge_base(r, *totals.get(r.id, (0, 0))) for r in rows]

    async def delete(self, tenant_id: str, kb_id: str) -> str:
        """Deletes the rows first (searches stop returning its chunks at once), then the points."""
        async with self._sessions() as session:
            row = await repo.get_knowledge_base(session, tenant_id, kb_id)
            if row is None:
                raise knowledge_base_not_found(kb_id, "id")
            for document in await repo.list_documents(session, tenant_id, kb_id):
                await session.delete(document)
            await session.delete(row)
            await session.commit()
        await self._vectors.delete_knowledge_base(tenant_id, kb_id)
        return kb_id
