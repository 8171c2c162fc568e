"""Query types: each user message's type by nearest centroid over the retriever's MiniLM embeddings."""

from tuneway.analytics.query_types.classifier import DEFAULT_THRESHOLD, Classification, QueryClassifier
from tuneway.analytics.query_types.embedder import RetrieverEmbedder
from tuneway.analytics.query_types.taxonomy import (
    DEFAULT_QUERY_TYPES,
    HUMAN,
    OTHER,
    QueryTypeDefinition,
    effective_types,
    validate_query_type,
)

__all__ = [
    "DEFAULT_QUERY_TYPES",
    "DEFAULT_THRESHOLD",
    "HUMAN",
    "OTHER",
    "Classification",
    "QueryClassifier",
    "QueryTypeDefinition",
    "RetrieverEmbedder",
    "effective_types",
    "validate_query_type",
]
