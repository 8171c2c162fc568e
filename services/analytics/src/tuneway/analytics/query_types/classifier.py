"""Query type by nearest centroid: cosine similarity of a text's embedding to each type's mean example."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tuneway.analytics.query_types.embedder import normalised
from tuneway.analytics.query_types.taxonomy import OTHER, QueryTypeDefinition

# Calibrated on labelled_queries.jsonl with the default taxonomy (bench/query_type_accuracy.py): accuracy
# 0.90 here and >= 0.89 from 0.25 to 0.325; higher thresholds send diffuse types (product questions) to
# "other", lower ones file weather and trivia under a type.
DEFAULT_THRESHOLD = 0.30
# Tenants whose centroids are kept; one entry each, replaced when their types change.
CENTROID_TENANTS = 1_000

Embed = Callable[[str, Sequence[str]], Awaitable[np.ndarray]]


@dataclass(frozen=True)
class Classification:
    """The nearest type ("other" below the threshold; "" for an empty text) and its cosine similarity."""

    query_type: str
    similarity: float


@dataclass(frozen=True)
class _Centroids:
    fingerprint: str
    names: tuple[str, ...]
    matrix: np.ndarray  # (types, dimensions), unit rows


class QueryClassifier:
    """Classifies texts against a tenant's types. Embeddings of texts (queries and examples alike) are
    kept in an LRU, so a repeated query or an unchanged example costs no RPC; each tenant's centroids
    are kept until its types change."""

    def __init__(self, embed: Embed, threshold: float = DEFAULT_THRESHOLD, cache_size: int = 10_000) -> None:
        self._embed = embed
        self.threshold = threshold
        self._cache_size = cache_size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._centroids: OrderedDict[str, _Centroids] = OrderedDict()

    async def classify(
        self, tenant_id: str, types: Sequence[QueryTypeDefinition], texts: Sequence[str]
    ) -> list[Classification]:
        """One Classification per text, in order; at most one Embed call for everything not cached."""
        fingerprint = _fingerprint(types)
        centroids = self._centroids.get(tenant_id)
        stale = centroids is None or centroids.fingerprint != fingerprint
        examples = [example for definition in types for example in definition.examples] if stale else []
        vectors = await self._vectors_of(tenant_id, [*examples, *(text for text in texts if text.strip())])
        if centroids is None or stale:
            centroids = _build(fingerprint, types, vectors)
            self._centroids[tenant_id] = centroids
            while len(self._centroids) > CENTROID_TENANTS:
                self._centroids.popitem(last=False)
        self._centroids.move_to_end(tenant_id)
        return [self._nearest(centroids, vectors, text) for text in texts]

    def _nearest(self, centroids: _Centroids, vectors: dict[str, np.ndarray], text: str) -> Classification:
        if not text.strip():
            return Classification("", 0.0)
        if not centroids.names:
            return Classification(OTHER, 0.0)
        similarities = centroids.matrix @ vectors[text]
        best = int(np.argmax(similarities))
        similarity = float(similarities[best])
        return Classification(centroids.names[best] if similarity >= self.threshold else OTHER, similarity)

    async def _vectors_of(self, tenant_id: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The embedding of each distinct text: from the LRU, the rest from one Embed call. The answer is
        a dict of its own, so a concurrent call's eviction cannot take a vector away mid-classification."""
        wanted = list(dict.fromkeys(texts))
        found: dict[str, np.ndarray] = {}
        for text in wanted:
            cached = self._vectors.get(text)
            if cached is not None:
                self._vectors.move_to_end(text)
                found[text] = cached
        missing = [text for text in wanted if text not in found]
        if missing:
            embedded = await self._embed(tenant_id, missing)
            for text, vector in zip(missing, embedded, strict=True):
                found[text] = vector
                self._vectors[text] = vector
            while len(self._vectors) > self._cache_size:
                self._vectors.popitem(last=False)
        return found


def _build(
    fingerprint: str, types: Sequence[QueryTypeDefinition], vectors: dict[str, np.ndarray]
) -> _Centroids:
    """Each type's centroid: the mean of its examples' unit embeddings, re-normalised."""
    usable = [definition for definition in types if definition.examples]
    if not usable:
        return _Centroids(fingerprint, (), np.zeros((0, 0), dtype=np.float32))
    means = [np.mean([vectors[example] for example in d.examples], axis=0) for d in usable]
    return _Centroids(fingerprint, tuple(d.name for d in usable), normalised(np.stack(means)))


def _fingerprint(types: Sequence[QueryTypeDefinition]) -> str:
    """A digest of the types' names and examples, so any change recomputes the centroids."""
    payload = json.dumps([[definition.name, list(definition.examples)] for definition in types])
    return hashlib.sha256(payload.encode()).hexdigest()
