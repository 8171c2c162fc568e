"""Settings of the retriever (env prefix RETRIEVER_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tuneway.core.settings import DatabaseSettings, GrpcServiceSettings, service_config

Backend = Literal["torch", "onnx", "onnx-int8", "openvino"]


class RetrieverSettings(GrpcServiceSettings, DatabaseSettings):
    """Serving, the SQL store, Qdrant, the embedder and chunking defaults."""

    model_config = service_config("RETRIEVER_")
    database_name = "retriever"

    grpc_port: int = 50052
    metrics_port: int = 9102
    # Empty means Qdrant's local mode under <data dir>/qdrant (one process owns it); else a server URL.
    qdrant_url: str = ""
    qdrant_api_key: str = ""
    collection_prefix: str = "tuneway_chunks"
    # Embedder runtime; OpenVINO measured fastest on CPU with the same vectors (2.8x torch, cosine
    # 0.99997 to it; ONNX Runtime 0.7x, its int8 model 1.1x with drifted vectors: bench/README.md).
    embedder_backend: Backend = "openvino"
    # Texts per forward pass; larger batches amortise overhead but pad more.
    embed_batch_size: int = 32
    # Where exported ONNX models are cached (empty: <data dir>/models/embedders).
    embedder_cache_dir: str = ""
    # Chunking defaults of new knowledge bases, in the embedder's tokens (its limit is 256).
    default_chunk_size: int = 200
    default_chunk_overlap: int = 40
    # Largest document accepted (direct upload or artifact), and most chunks from one file.
    max_document_bytes: int = 64 * 1024 * 1024
    max_chunks_per_file: int = 200_000
    # Chunks embedded and written per step of an ingestion (the unit of progress).
    ingest_batch_size: int = 64
    # Most inputs of one Embed call (OpenAI allows 2048).
    max_embed_inputs: int = 2048

    def qdrant_path(self) -> Path:
        """Directory of Qdrant's local mode."""
        return self.data_dir / "qdrant"

    def cache_dir(self) -> Path:
        """Directory of exported embedder models."""
        return (
            Path(self.embedder_cache_dir)
            if self.embedder_cache_dir
            else self.data_dir / "models" / "embedders"
        )
