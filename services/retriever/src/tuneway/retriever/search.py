"""Search over the served revision of each document, and embeddings for the Embed RPC."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import InvalidArgumentError
from tuneway.retriever import repository as repo
from tuneway.retriever.embedder import Embedder, resolve_model
from tuneway.retriever.knowledge_bases import knowledge_base_not_found
from tuneway.retriever.metrics import EMBEDDED_TEXTS, SEARCH_SECONDS
from tuneway.retriever.vectors import VectorStore

DEFAULT_TOP_K = 5
MAX_TOP_K = 100
MAX_QUERY_CHARS = 8_192


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk."""

    text: str
    document_id: str
    knowledge_base_id: str
    title: str
    source: str
    chunk_index: int
    score: float
    metadata: dict[str, str]


class Searcher:
    """Embeds the query, asks Qdrant within the tenant's knowledge bases and drops unserved revisions."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], vectors: VectorStore, embedder: Embedder
    ) -> None:
        self._sessions = sessions
        self._vectors = vectors
        self._embedder = embedder

    async def search(
        self,
        tenant_id: str,
        kb_ids: Sequence[str],
        query: str,
        top_k: int,
        threshold: float | None,
        metadata: Mapping[str, str],
        document_ids: Sequence[str],
    ) -> list[Hit]:
        """The best `top_k` chunks scoring at least `threshold`, best first."""
        started = time.perf_counter()
        if not query.strip():
            raise InvalidArgumentError("'query' must not be empty.", param="query")
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidArgumentError(f"'query' is longer than {MAX_QUERY_CHARS} characters.", param="query")
        top_k = top_k or DEFAULT_TOP_K
        if not 1 <= top_k <= MAX_TOP_K:
            raise InvalidArgumentError(f"'top_k' must be between 1 and {MAX_TOP_K}.", param="top_k")
        unique = list(dict.fromkeys(kb_ids))
        if not unique:
            raise InvalidArgumentError("Name at least one knowledge base.", param="knowledge_base_ids")
        async with self._sessions() as session:
            known = await repo.knowledge_base_ids(session, tenant_id, unique)
        missing = [kb for kb in unique if kb not in known]
        if missing:
            raise knowledge_base_not_found(missing[0], "knowledge_base_ids")
        vector = (await self._embedder.embed_in_thread([query]))[0]
        hits = await self._served(tenant_id, unique, vector, top_k, threshold, metadata, document_ids)
        SEARCH_SECONDS.observe(time.perf_counter() - started)
        return hits

    async def _served(
        self,
        tenant_id: str,
        kb_ids: list[str],
        vector: np.ndarray,
        top_k: int,
        threshold: float | None,
        metadata: Mapping[str, str],
        document_ids: Sequence[str],
    ) -> list[Hit]:
        """Hits of served revisions only; asks for more when a re-ingestion's points crowd them out."""
        limit = top_k * 2 + 8
        while True:
            points = await self._vectors.search(
                tenant_id, kb_ids, vector, limit, threshold, metadata, document_ids
            )
            doc_ids = list({str((p.payload or {})["document_id"]) for p in points})
            async with self._sessions() as session:
                served = await repo.served_revisions(session, tenant_id, doc_ids)
            hits = [
                _hit(payload, p.score)
                for p in points
                if (payload := p.payload or {})
                and served.get(str(payload["document_id"])) == payload["revision"]
            ]
            if len(hits) >= top_k or len(points) < limit or limit >= 4096:
                return hits[:top_k]
            limit *= 4

    async def embed(self, model: str, inputs: Sequence[str], max_inputs: int) -> tuple[str, np.ndarray, int]:
        """The model id, unit vectors of `inputs` and their token count."""
        model_id = resolve_model(model)
        if not inputs:
            raise InvalidArgumentError("'input' must not be empty.", param="input")
        if len(inputs) > max_inputs:
            raise InvalidArgumentError(f"'input' holds at most {max_inputs} items.", param="input")
        for position, text in enumerate(inputs):
            if not text:
                raise InvalidArgumentError(f"'input[{position}]' must not be an empty string.", param="input")
        tokens = sum(await asyncio.to_thread(self._embedder.count_tokens, inputs))
        vectors = await self._embedder.embed_in_thread(list(inputs))
        EMBEDDED_TEXTS.inc(len(inputs))
        return model_id, vectors, tokens


def _hit(payload: Mapping[str, object], score: float) -> Hit:
    metadata = payload.get("metadata") or {}
    return Hit(
        text=str(payload["text"]),
        document_id=str(payload["document_id"]),
        knowledge_base_id=str(payload["knowledge_base_id"]),
        title=str(payload.get("title", "")),
        source=str(payload.get("source", "")),
        chunk_index=int(payload.get("chunk_index", 0)),  # type: ignore[call-overload]
        score=float(score),
        metadata={str(k): str(v) for k, v in dict(metadata).items()},  # type: ignore[call-overload]
    )
