"""Chunks and their vectors in Qdrant: one collection per embedding model, tenants kept apart by filter."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm

# Namespace of point ids: uuid5(document, revision, chunk) makes a retried write idempotent.
_POINT_NAMESPACE = uuid.UUID("6f1c9a52-3d0e-4f7b-9a55-3f2a1e7c0b11")
_KEYWORD_FIELDS = ("knowledge_base_id", "document_id")


@dataclass(frozen=True)
class ChunkPoint:
    """One chunk as stored: where it belongs, its text and vector."""

    tenant_id: str
    knowledge_base_id: str
    document_id: str
    revision: int
    index: int
    text: str
    title: str
    source: str
    metadata: Mapping[str, str]

    def payload(self) -> dict[str, Any]:
        """The Qdrant payload (what filters and search results read)."""
        return {
            "tenant_id": self.tenant_id,
            "knowledge_base_id": self.knowledge_base_id,
            "document_id": self.document_id,
            "revision": self.revision,
            "chunk_index": self.index,
            "text": self.text,
            "title": self.title,
            "source": self.source,
            "metadata": dict(self.metadata),
        }

    def point_id(self) -> str:
        """A stable id of this chunk of this revision."""
        return str(uuid.uuid5(_POINT_NAMESPACE, f"{self.document_id}/{self.revision}/{self.index}"))


def _match(key: str, value: Any) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))


def _any(key: str, values: Sequence[str]) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))


class VectorStore:
    """Reads and writes chunk points; every operation is scoped by tenant in its filter."""

    def __init__(self, client: AsyncQdrantClient, collection: str, dimensions: int, local: bool) -> None:
        self._client = client
        self.collection = collection
        self.dimensions = dimensions
        self._local = local

    @classmethod
    def connect(
        cls, url: str, api_key: str, local_path: Path, collection: str, dimensions: int
    ) -> VectorStore:
        """A server by URL, else local mode under `local_path` (which one process may own)."""
        if url:
            return cls(AsyncQdrantClient(url=url, api_key=api_key or None), collection, dimensions, False)
        local_path.mkdir(parents=True, exist_ok=True)
        return cls(AsyncQdrantClient(path=str(local_path)), collection, dimensions, True)

    async def ensure_collection(self) -> None:
        """Creates the collection and its payload indexes if missing."""
        if not await self._client.collection_exists(self.collection):
            await self._client.create_collection(
                self.collection,
                vectors_config=qm.VectorParams(size=self.dimensions, distance=qm.Distance.COSINE),
            )
        if self._local:
            return  # local mode scans without indexes (and warns about them)
        # is_tenant lays the tenant's points out together on disk, so a tenant's search reads less.
        await self._client.create_payload_index(
            self.collection,
            "tenant_id",
            field_schema=qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True),
        )
        for field in _KEYWORD_FIELDS:
            await self._client.create_payload_index(self.collection, field, qm.PayloadSchemaType.KEYWORD)
        await self._client.create_payload_index(self.collection, "revision", qm.PayloadSchemaType.INTEGER)

    async def upsert(self, chunks: Sequence[ChunkPoint], vectors: np.ndarray) -> None:
        """Writes the chunks with their vectors and waits until they are searchable."""
        points = [
            qm.PointStruct(id=c.point_id(), vector=v.tolist(), payload=c.payload())
            for c, v in zip(chunks, vectors, strict=True)
        ]
        await self._client.upsert(self.collection, points=points, wait=True)

    async def delete_revisions(
        self, tenant_id: str, document_id: str, *, older_than: int | None = None, only: int | None = None
    ) -> None:
        """Deletes the document's points: revisions below `older_than`, or revision `only`, or all."""
        must = [_match("tenant_id", tenant_id), _match("document_id", document_id)]
        if only is not None:
            must.append(_match("revision", only))
        if older_than is not None:
            # A range, not "all but": a newer revision may already be half written by a re-ingestion.
            must.append(qm.FieldCondition(key="revision", range=qm.Range(lt=older_than)))
        selector = qm.FilterSelector(filter=qm.Filter(must=must))
        await self._client.delete(self.collection, points_selector=selector, wait=True)

    async def delete_knowledge_base(self, tenant_id: str, knowledge_base_id: str) -> None:
        """Deletes every point of a knowledge base."""
        selector = qm.FilterSelector(
            filter=qm.Filter(
                must=[_match("tenant_id", tenant_id), _match("knowledge_base_id", knowledge_base_id)]
            )
        )
        await self._client.delete(self.collection, points_selector=selector, wait=True)

    async def search(
        self,
        tenant_id: str,
        knowledge_base_ids: Sequence[str],
        vector: np.ndarray,
        limit: int,
        threshold: float | None,
        metadata: Mapping[str, str],
        document_ids: Sequence[str],
    ) -> list[qm.ScoredPoint]:
        """The nearest points of the tenant's knowledge bases that match every filter, best first."""
        must: list[qm.Condition] = [
            _match("tenant_id", tenant_id),
            _any("knowledge_base_id", knowledge_base_ids),
        ]
        must.extend(_match(f"metadata.{key}", value) for key, value in metadata.items())
        if document_ids:
            must.append(_any("document_id", document_ids))
        response = await self._client.query_points(
            self.collection,
            query=vector.tolist(),
            query_filter=qm.Filter(must=must),
            limit=limit,
            score_threshold=threshold,
            with_payload=True,
        )
        return list(response.points)

    async def count(self, tenant_id: str, knowledge_base_id: str) -> int:
        """Points stored for a knowledge base (all revisions)."""
        result = await self._client.count(
            self.collection,
            count_filter=qm.Filter(
                must=[_match("tenant_id", tenant_id), _match("knowledge_base_id", knowledge_base_id)]
            ),
            exact=True,
        )
        return int(result.count)

    async def close(self) -> None:
        """Closes the client (local mode releases its directory lock)."""
        await self._client.close()
