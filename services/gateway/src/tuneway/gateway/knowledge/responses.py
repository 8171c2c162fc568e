"""Retriever messages as the JSON objects of /v1/knowledge_bases and /v1/embeddings."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from tuneway.api.retriever.v1 import retriever_pb2 as pb


def knowledge_base(kb: pb.KnowledgeBase) -> dict[str, Any]:
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


def document(doc: pb.Document) -> dict[str, Any]:
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


def search_result(hit: pb.SearchHit) -> dict[str, Any]:
    """One retrieved chunk."""
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


def embedding_list(response: pb.EmbedResponse, encoding_format: str) -> dict[str, Any]:
    """OpenAI's embeddings response; base64 is the little-endian float32 bytes the SDK decodes."""
    data = []
    for index, item in enumerate(response.embeddings):
        values: Any = list(item.values)
        if encoding_format == "base64":
            values = base64.b64encode(np.asarray(item.values, dtype="<f4").tobytes()).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": values})
    usage = {"prompt_tokens": response.prompt_tokens, "total_tokens": response.prompt_tokens}
    return {"object": "list", "data": data, "model": response.model, "usage": usage}
