"""Request bodies of /v1/knowledge_bases and /v1/embeddings, and their protobuf forms."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.wire_types import INT32_MAX, UnicodeModel

Metadata = Annotated[dict[str, str], Field(max_length=16)]
# What the retriever's embedder returns per input.
DIMENSIONS = 384


class _Strict(UnicodeModel):
    # Platform resources are ours: a misspelt field is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class CreateKnowledgeBaseBody(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    description: str = ""
    chunk_size: Annotated[int, Field(ge=16, le=256, description="Tokens per chunk (default 200).")] | None = (
        None
    )
    chunk_overlap: (
        Annotated[int, Field(ge=0, le=INT32_MAX, description="Tokens shared by neighbouring chunks.")] | None
    ) = None
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

    def to_proto(self, tenant_id: str, knowledge_base_id: str) -> pb.SearchRequest:
        """The RPC request, over one knowledge base."""
        return pb.SearchRequest(
            tenant_id=tenant_id,
            knowledge_base_ids=[knowledge_base_id],
            query=self.query,
            top_k=self.top_k,
            score_threshold=self.score_threshold,
            filter=self.filter,
            document_ids=self.document_ids,
        )


class EmbeddingsBody(UnicodeModel):
    """OpenAI's embeddings request (unknown fields are ignored, as OpenAI-compatible servers do)."""

    input: str | list[str] | list[int] | list[list[int]]
    model: str
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None

    def to_proto(self, tenant_id: str) -> pb.EmbedRequest:
        """The RPC request; dimensions other than the embedder's and token arrays are refused."""
        if self.dimensions is not None and self.dimensions != DIMENSIONS:
            raise InvalidArgumentError(
                f"This model only returns {DIMENSIONS} dimensions.", param="dimensions", code="invalid_value"
            )
        return pb.EmbedRequest(tenant_id=tenant_id, model=self.model, inputs=self._texts())

    def _texts(self) -> list[str]:
        """The inputs as strings; token arrays are refused (they would be another tokenizer's ids)."""
        if isinstance(self.input, str):
            return [self.input]
        if not self.input:
            raise InvalidArgumentError("'input' must not be empty.", param="input", code="invalid_value")
        if all(isinstance(item, str) for item in self.input):
            return [str(item) for item in self.input]
        raise InvalidArgumentError(
            "Token arrays are not supported as 'input'; send the text (a string or a list of strings).",
            param="input",
            code="invalid_value",
        )
