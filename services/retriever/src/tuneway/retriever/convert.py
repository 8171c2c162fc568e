"""Domain values to protobuf messages."""

from __future__ import annotations

from dataclasses import asdict

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.retriever.domain import Document, KnowledgeBase
from tuneway.retriever.search import Hit


def knowledge_base_to(knowledge_base: KnowledgeBase) -> pb.KnowledgeBase:
    """A knowledge base with its totals (the fields are the message's own)."""
    return pb.KnowledgeBase(**asdict(knowledge_base))


def document_to(document: Document) -> pb.Document:
    """A document with its ingestion status (the fields are the message's own)."""
    return pb.Document(**asdict(document))


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
