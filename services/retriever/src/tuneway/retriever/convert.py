"""Domain values to protobuf messages."""

from __future__ import annotations

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.retriever.knowledge_bases import KnowledgeBaseView
from tuneway.retriever.models import DocumentRow
from tuneway.retriever.search import Hit


def knowledge_base_to(view: KnowledgeBaseView) -> pb.KnowledgeBase:
    """A knowledge base with its totals."""
    row = view.row
    return pb.KnowledgeBase(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        chunk_size=row.chunk_size,
        chunk_overlap=row.chunk_overlap,
        embedding_model=row.embedding_model,
        document_count=view.documents,
        chunk_count=view.chunks,
        metadata=row.meta,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def document_to(row: DocumentRow) -> pb.Document:
    """A document with its ingestion status."""
    return pb.Document(
        id=row.id,
        knowledge_base_id=row.knowledge_base_id,
        tenant_id=row.tenant_id,
        title=row.title,
        source=row.source,
        filename=row.filename,
        format=row.format,
        metadata=row.meta,
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
    )


def hit_to(hit: Hit) -> pb.SearchHit:
    """One search hit."""
    return pb.SearchHit(
        text=hit.text,
        document_id=hit.document_id,
        knowledge_base_id=hit.knowledge_base_id,
        title=hit.title,
        source=hit.source,
        chunk_index=hit.chunk_index,
        score=hit.score,
        metadata=hit.metadata,
    )
