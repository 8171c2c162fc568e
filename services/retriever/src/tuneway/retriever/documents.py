"""Documents of a knowledge base: read, list and delete (with their chunks)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import NotFoundError
from tuneway.retriever import repository as repo
from tuneway.retriever.domain import Document
from tuneway.retriever.knowledge_bases import KnowledgeBaseCatalog
from tuneway.retriever.vectors import VectorStore


def document_not_found(doc_id: str) -> NotFoundError:
    """The error for a document that does not exist in that knowledge base (or for that tenant)."""
    return NotFoundError(f"No document with id '{doc_id}'.", param="id", code="document_not_found")


class DocumentCatalog:
    """Reads documents; deleting removes the row first, so searches drop its chunks at once."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], vectors: VectorStore, catalog: KnowledgeBaseCatalog
    ) -> None:
        self._sessions = sessions
        self._vectors = vectors
        self._catalog = catalog

    async def get(self, tenant_id: str, kb_id: str, doc_id: str) -> Document:
        """One document with its status and progress."""
        async with self._sessions() as session:
            row = await repo.get_document(session, tenant_id, kb_id, doc_id)
        if row is None:
            await self._catalog.row(tenant_id, kb_id)  # a missing knowledge base is named as such
            raise document_not_found(doc_id)
        return repo.to_document(row)

    async def list(self, tenant_id: str, kb_id: str) -> list[Document]:
        """The knowledge base's documents, oldest first."""
        await self._catalog.row(tenant_id, kb_id)
        async with self._sessions() as session:
            rows = await repo.list_documents(session, tenant_id, kb_id)
        return [repo.to_document(r) for r in rows]

    async def delete(self, tenant_id: str, kb_id: str, doc_id: str) -> str:
        """Deletes the document; a running ingestion of it notices and drops what it wrote."""
        async with self._sessions() as session:
            row = await repo.get_document(session, tenant_id, kb_id, doc_id)
            if row is None:
                await self._catalog.row(tenant_id, kb_id)
                raise document_not_found(doc_id)
            await session.delete(row)
            await session.commit()
        await self._vectors.delete_revisions(tenant_id, doc_id)
        return doc_id
