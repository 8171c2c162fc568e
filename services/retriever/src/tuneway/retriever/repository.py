"""Queries of the retriever's tables (every one filtered by tenant, but start-up repair), and rows to
domain values."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.retriever.domain import Document, KnowledgeBase
from tuneway.retriever.models import DocumentRow, KnowledgeBaseRow


def to_knowledge_base(row: KnowledgeBaseRow, documents: int = 0, chunks: int = 0) -> KnowledgeBase:
    """The knowledge base of a row, with its document and chunk totals."""
    return KnowledgeBase(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        chunk_size=row.chunk_size,
        chunk_overlap=row.chunk_overlap,
        embedding_model=row.embedding_model,
        metadata=dict(row.meta),
        created_at=row.created_at,
        updated_at=row.updated_at,
        document_count=documents,
        chunk_count=chunks,
    )


def to_document(row: DocumentRow) -> Document:
    """The document of a row."""
    return Document(
        id=row.id,
        knowledge_base_id=row.knowledge_base_id,
        tenant_id=row.tenant_id,
        title=row.title,
        source=row.source,
        filename=row.filename,
        format=row.format,
        status=row.status,
        error=row.error,
        revision=row.revision,
        chunks_total=row.chunks_total,
        chunks_done=row.chunks_done,
        chunk_count=row.chunk_count,
        bytes=row.bytes,
        sha256=row.sha256,
        created_at=row.created_at,
        updated_at=row.updated_at,
        metadata=dict(row.meta),
    )


async def get_knowledge_base(session: AsyncSession, tenant_id: str, kb_id: str) -> KnowledgeBaseRow | None:
    """The tenant's knowledge base with this id."""
    query = select(KnowledgeBaseRow).where(
        KnowledgeBaseRow.tenant_id == tenant_id, KnowledgeBaseRow.id == kb_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def knowledge_base_ids(session: AsyncSession, tenant_id: str, ids: Sequence[str]) -> set[str]:
    """Which of `ids` are the tenant's knowledge bases."""
    query = select(KnowledgeBaseRow.id).where(
        KnowledgeBaseRow.tenant_id == tenant_id, KnowledgeBaseRow.id.in_(list(ids))
    )
    return set((await session.execute(query)).scalars())


async def list_knowledge_bases(session: AsyncSession, tenant_id: str) -> list[KnowledgeBaseRow]:
    """The tenant's knowledge bases, newest first."""
    query = (
        select(KnowledgeBaseRow)
        .where(KnowledgeBaseRow.tenant_id == tenant_id)
        .order_by(KnowledgeBaseRow.created_at.desc(), KnowledgeBaseRow.id)
    )
    return list((await session.execute(query)).scalars())


async def knowledge_base_totals(
    session: AsyncSession, tenant_id: str, kb_ids: Sequence[str]
) -> dict[str, tuple[int, int]]:
    """knowledge base id -> (documents, chunks served)."""
    query = (
        select(
            DocumentRow.knowledge_base_id, func.count(), func.coalesce(func.sum(DocumentRow.chunk_count), 0)
        )
        .where(DocumentRow.tenant_id == tenant_id, DocumentRow.knowledge_base_id.in_(list(kb_ids)))
        .group_by(DocumentRow.knowledge_base_id)
    )
    return {kb: (int(docs), int(chunks)) for kb, docs, chunks in (await session.execute(query)).all()}


async def get_document(
    session: AsyncSession, tenant_id: str, kb_id: str, doc_id: str, *, lock: bool = False
) -> DocumentRow | None:
    """One document of the tenant's knowledge base; `lock` holds its row until commit (PostgreSQL)."""
    query = select(DocumentRow).where(
        DocumentRow.tenant_id == tenant_id, DocumentRow.knowledge_base_id == kb_id, DocumentRow.id == doc_id
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_documents(session: AsyncSession, tenant_id: str, kb_id: str) -> list[DocumentRow]:
    """The documents of a knowledge base, oldest first."""
    query = (
        select(DocumentRow)
        .where(DocumentRow.tenant_id == tenant_id, DocumentRow.knowledge_base_id == kb_id)
        .order_by(DocumentRow.created_at, DocumentRow.id)
    )
    return list((await session.execute(query)).scalars())


async def served_revisions(session: AsyncSession, tenant_id: str, doc_ids: Sequence[str]) -> dict[str, int]:
    """document id -> the revision it serves, for those of `doc_ids` that still exist."""
    query = select(DocumentRow.id, DocumentRow.revision).where(
        DocumentRow.tenant_id == tenant_id, DocumentRow.id.in_(list(doc_ids))
    )
    return {doc: int(revision) for doc, revision in (await session.execute(query)).all()}


async def interrupted(session: AsyncSession) -> list[DocumentRow]:
    """Documents whose ingestion was running when the service stopped (any tenant: start-up repair)."""
    query = select(DocumentRow).where(DocumentRow.pending_revision != 0)
    return list((await session.execute(query)).scalars())


async def update_ingestion(session: AsyncSession, doc_id: str, pending: int, **values: object) -> bool:
    """Updates the document while the ingestion of revision `pending` is still its latest; False once
    a newer one (or a delete) has superseded it."""
    result = await session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == doc_id, DocumentRow.pending_revision == pending)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
