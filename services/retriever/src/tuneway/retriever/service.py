"""The knowledge layer's domain services, wired together (no gRPC here)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.retriever.documents import DocumentCatalog
from tuneway.retriever.embedder import Embedder
from tuneway.retriever.ingestion import IngestLimits, Ingestor
from tuneway.retriever.knowledge_bases import ChunkLimits, KnowledgeBaseCatalog
from tuneway.retriever.search import Searcher
from tuneway.retriever.vectors import VectorStore


@dataclass(frozen=True)
class RetrieverService:
    """Knowledge bases, documents, ingestion and search over one SQL store, one vector store and embedder."""

    knowledge_bases: KnowledgeBaseCatalog
    documents: DocumentCatalog
    ingestor: Ingestor
    searcher: Searcher
    embedder: Embedder

    @classmethod
    def build(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        vectors: VectorStore,
        embedder: Embedder,
        chunking: ChunkLimits,
        ingest: IngestLimits,
    ) -> RetrieverService:
        """Wires the parts."""
        catalog = KnowledgeBaseCatalog(sessions, vectors, chunking)
        return cls(
            knowledge_bases=catalog,
            documents=DocumentCatalog(sessions, vectors, catalog),
            ingestor=Ingestor(sessions, vectors, embedder, catalog, ingest),
            searcher=Searcher(sessions, vectors, embedder),
            embedder=embedder,
        )
