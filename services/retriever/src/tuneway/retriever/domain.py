"""What the retriever's services return: knowledge bases and documents as values, not ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KnowledgeBase:
    """A knowledge base of one tenant: its chunking settings, embedding model and totals."""

    id: str
    tenant_id: str
    name: str
    description: str
    chunk_size: int
    chunk_overlap: int
    embedding_model: str
    metadata: dict[str, str]
    created_at: int
    updated_at: int
    document_count: int = 0
    chunk_count: int = 0


@dataclass(frozen=True)
class Document:
    """A document of a knowledge base with the status and progress of its latest ingestion."""

    id: str
    knowledge_base_id: str
    tenant_id: str
    title: str
    source: str
    filename: str
    format: str
    status: str
    error: str
    # The revision searches serve (0 until the first ingestion completes).
    revision: int
    chunks_total: int
    chunks_done: int
    chunk_count: int
    bytes: int
    sha256: str
    created_at: int
    updated_at: int
    metadata: dict[str, str] = field(default_factory=dict)
