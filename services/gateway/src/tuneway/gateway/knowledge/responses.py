"""Retriever messages as the JSON objects of /v1/knowledge_bases and /v1/embeddings."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.api.retriever.v1 import retriever_pb2 as pb


class KnowledgeBase(TypedDict):
    """A knowledge base; chunk size and overlap count the embedder's tokens."""

    id: str
    object: Literal["knowledge_base"]
    name: str
    description: str
    chunk_size: int
    chunk_overlap: int
    embedding_model: str
    document_count: int
    chunk_count: int
    metadata: dict[str, str]
    created_at: int
    updated_at: int


class IngestionError(TypedDict):
    code: Literal["ingestion_failed"]
    message: str


class IngestionProgress(TypedDict):
    chunks_done: int
    chunks_total: int


class Document(TypedDict):
    """A document of a knowledge base; `status` and `progress` follow its latest ingestion."""

    id: str
    object: Literal["knowledge_base.document"]
    knowledge_base_id: str
    title: str
    source: str
    filename: str
    format: str
    metadata: dict[str, str]
    status: str
    last_error: IngestionError | None
    revision: int
    progress: IngestionProgress
    chunk_count: int
    bytes: int
    sha256: str
    created_at: int
    updated_at: int


class DocumentList(TypedDict):
    """The documents of a JSONL upload, one per line."""

    object: Literal["list"]
    data: list[Document]


class Source(TypedDict):
    """A retrieved chunk's place: its document and knowledge base, and how well it matched."""

    document_id: str
    knowledge_base_id: str
    title: str
    source: Annotated[str, Field(description="The uploaded file's name, a /v1/files id, or the client's.")]
    chunk_index: Annotated[int, Field(description="The chunk's position in its document, from 0.")]
    score: Annotated[float, Field(description="Cosine similarity to the query, -1..1.")]


class SearchResult(Source):
    """One retrieved chunk."""

    object: Literal["knowledge_base.search_result"]
    text: str
    metadata: dict[str, str]


class SearchResults(TypedDict):
    """The chunks nearest to the query, best first."""

    object: Literal["list"]
    data: list[SearchResult]
    search_query: str


class Embedding(TypedDict):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str


class EmbeddingUsage(TypedDict):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(TypedDict):
    """OpenAI's embeddings response: float lists, or base64 of little-endian float32 bytes."""

    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


def knowledge_base(kb: pb.KnowledgeBase) -> KnowledgeBase:
    """A `knowledge_base` object."""
    return {
        "id": kb.id,
        "object": "knowledge_base",
        "name": kb.name,
        "description": kb.description,
        "chunk_size": kb.chunk_size,
        "chunk_overlap": kb.chunk_overlap,
        "embedding_model": kb.embedding_model,
        "document_count": kb.document_count,
        "chunk_count": kb.chunk_count,
        "metadata": dict(kb.metadata),
        "created_at": kb.created_at,
        "updated_at": kb.updated_at,
    }


def document(doc: pb.Document) -> Document:
    """A `knowledge_base.document` object; `progress` counts the latest ingestion's chunks."""
    return {
        "id": doc.id,
        "object": "knowledge_base.document",
        "knowledge_base_id": doc.knowledge_base_id,
        "title": doc.title,
        "source": doc.source,
        "filename": doc.filename,
        "format": doc.format,
        "metadata": dict(doc.metadata),
        "status": doc.status,
        # OpenAI's vector store files report failures the same way.
        "last_error": {"code": "ingestion_failed", "message": doc.error} if doc.error else None,
        "revision": doc.revision,
        "progress": {"chunks_done": doc.chunks_done, "chunks_total": doc.chunks_total},
        "chunk_count": doc.chunk_count,
        "bytes": doc.bytes,
        "sha256": doc.sha256,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


def search_results(hits: Iterable[pb.SearchHit], query: str) -> SearchResults:
    """The retrieved chunks as a list that repeats the query."""
    return {"object": "list", "data": [_search_result(h) for h in hits], "search_query": query}


def source_object(hit: pb.SearchHit) -> Source:
    """Where an assistant's answer came from (the chat response's `tuneway.sources`)."""
    return {
        "document_id": hit.document_id,
        "knowledge_base_id": hit.knowledge_base_id,
        "title": hit.title,
        "source": hit.source,
        "chunk_index": hit.chunk_index,
        "score": round(float(hit.score), 4),
    }


def _search_result(hit: pb.SearchHit) -> SearchResult:
    return {
        "object": "knowledge_base.search_result",
        "document_id": hit.document_id,
        "knowledge_base_id": hit.knowledge_base_id,
        "title": hit.title,
        "source": hit.source,
        "chunk_index": hit.chunk_index,
        "score": round(float(hit.score), 6),
        "text": hit.text,
        "metadata": dict(hit.metadata),
    }


def embedding_list(response: pb.EmbedResponse, encoding_format: str) -> EmbeddingList:
    """OpenAI's embeddings response; base64 is the little-endian float32 bytes the SDK decodes."""
    data: list[Embedding] = []
    for index, item in enumerate(response.embeddings):
        values: list[float] | str = list(item.values)
        if encoding_format == "base64":
            values = base64.b64encode(np.asarray(item.values, dtype="<f4").tobytes()).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": values})
    usage: EmbeddingUsage = {"prompt_tokens": response.prompt_tokens, "total_tokens": response.prompt_tokens}
    return {"object": "list", "data": data, "model": response.model, "usage": usage}
