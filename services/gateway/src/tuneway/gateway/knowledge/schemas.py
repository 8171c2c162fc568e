"""Request bodies of /v1/knowledge_bases and /v1/embeddings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tuneway.api.retriever.v1 import retriever_pb2 as pb

Metadata = Annotated[dict[str, str], Field(max_length=16)]


class _Strict(BaseModel):
    # Platform resources are ours: a misspelt field is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class CreateKnowledgeBaseBody(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    description: str = ""
    chunk_size: Annotated[int, Field(ge=16, le=256, description="Tokens per chunk (default 200).")] | None = (
        None
    )
    chunk_overlap: Annotated[int, Field(ge=0, description="Tokens shared by neighbouring chunks.")] | None = (
        None
    )
    embedding_model: str = ""
    metadata: Metadata = {}

    def to_proto(self, tenant_id: str) -> pb.CreateKnowledgeBaseRequest:
        """The RPC request."""
        return pb.CreateKnowledgeBaseRequest(
            tenant_id=tenant_id,
            name=self.name,
            description=self.description,
            chunk_size=self.chunk_size or 0,
            chunk_overlap=self.chunk_overlap,
            embedding_model=self.embedding_model,
            metadata=self.metadata,
        )


class FileDocumentBody(_Strict):
    """A document from a file already uploaded to /v1/files (JSON instead of a multipart upload)."""

    file_id: str
    title: str = ""
    source: str = ""
    format: str = ""
    metadata: Metadata = {}
    wait: bool = False


class SearchBody(_Strict):
    query: Annotated[str, Field(min_length=1, max_length=8192)]
    top_k: Annotated[int, Field(ge=1, le=100)] = 5
    score_threshold: Annotated[float, Field(ge=-1, le=1)] | None = None
    filter: Annotated[dict[str, str], Field(description="Exact matches on document metadata.")] = {}
    document_ids: list[str] = []


class EmbeddingsBody(BaseModel):
    """OpenAI's embeddings request (unknown fields are ignored, as OpenAI-compatible servers do)."""

    input: str | list[str] | list[int] | list[list[int]]
    model: str
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None
