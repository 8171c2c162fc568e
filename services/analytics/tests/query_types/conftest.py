"""A real retriever (the default MiniLM backend, SQLite, local Qdrant) in process, for the classifier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tuneway.analytics.query_types import RetrieverEmbedder
from tuneway.core.testing.processes import free_port
from tuneway.retriever.embedder import load_embedder
from tuneway.retriever.main import RetrieverServer
from tuneway.retriever.settings import RetrieverSettings

DEFAULT_BACKEND = RetrieverSettings.model_fields["embedder_backend"].default


@pytest.fixture(scope="module")
async def retriever_target(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """host:port of a running retriever; one per test module (loading MiniLM takes seconds)."""
    data_dir: Path = tmp_path_factory.mktemp("retriever")
    embedder = load_embedder(DEFAULT_BACKEND, 32, data_dir / "models")
    port = free_port()
    settings = RetrieverSettings(grpc_port=port, host="127.0.0.1", data_dir=data_dir, metrics_port=0)
    server = RetrieverServer(settings, embedder)
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop()


@pytest.fixture(scope="module")
async def embedder(retriever_target: str) -> AsyncIterator[RetrieverEmbedder]:
    client = RetrieverEmbedder(retriever_target)
    yield client
    await client.close()
