"""Fixtures of the retriever's tests: real replicas over gRPC on SQLite or PostgreSQL, Qdrant local mode."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest

from tuneway.api.retriever.v1 import retriever_pb2_grpc
from tuneway.core.grpc_client import create_channel
from tuneway.core.testing.processes import free_port
from tuneway.retriever.embedder import Embedder, load_embedder
from tuneway.retriever.main import RetrieverServer
from tuneway.retriever.settings import RetrieverSettings

Stub = retriever_pb2_grpc.RetrieverServiceStub
DEFAULT_BACKEND = RetrieverSettings.model_fields["embedder_backend"].default
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "knowledge"


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """One embedder for the session: the default backend (OpenVINO on the ONNX export of the packaged
    weights)."""
    return load_embedder(DEFAULT_BACKEND, 32, tmp_path_factory.mktemp("embedders"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same suite runs on the embedded SQLite store and on PostgreSQL."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))


class Replicas:
    """Starts and stops retriever replicas that share one data directory (SQL store and Qdrant)."""

    def __init__(self, db_url: str, data_dir: Path, embedder: Embedder) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        self.embedder = embedder
        self.server: RetrieverServer | None = None
        self.channel: grpc.aio.Channel | None = None

    async def start(self, **overrides: Any) -> Stub:
        """A fresh replica (the previous one is stopped first: local Qdrant has one owner)."""
        await self.stop()
        port = free_port()
        settings = RetrieverSettings(
            database_url=self.db_url,
            grpc_port=port,
            host="127.0.0.1",
            data_dir=self.data_dir,
            metrics_port=0,
            **overrides,
        )
        self.server = RetrieverServer(settings, self.embedder)
        await self.server.start()
        self.channel = create_channel(f"127.0.0.1:{port}")
        return Stub(self.channel)

    async def stop(self) -> None:
        """Stops the running replica, if any."""
        if self.channel is not None:
            await self.channel.close()
            self.channel = None
        if self.server is not None:
            await self.server.stop()
            self.server = None


@pytest.fixture
async def replicas(db_url: str, tmp_path: Path, embedder: Embedder) -> AsyncIterator[Replicas]:
    """Replicas over one database and one Qdrant directory."""
    started = Replicas(db_url, tmp_path / "data", embedder)
    yield started
    await started.stop()


@pytest.fixture
async def stub(replicas: Replicas) -> Stub:
    """A stub of one running replica."""
    return await replicas.start()


@pytest.fixture(scope="session")
def make_pdf() -> ModuleType:
    """examples/knowledge/make_pdf.py, which writes small text PDFs."""
    spec = importlib.util.spec_from_file_location("make_pdf", EXAMPLES / "make_pdf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
