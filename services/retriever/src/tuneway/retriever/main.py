"""Composition root of the retriever: embedder, SQL store, Qdrant, gRPC server, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from tuneway.api.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.grpc_server import build_server
from tuneway.core.lifecycle import retry_forever, run_until_stopped
from tuneway.core.logging import configure_logging
from tuneway.retriever.cpu_threads import release_threads
from tuneway.retriever.embedder import Embedder, load_embedder
from tuneway.retriever.ingestion import IngestLimits
from tuneway.retriever.knowledge_bases import ChunkLimits
from tuneway.retriever.service import RetrieverService
from tuneway.retriever.servicer import RetrieverServicer
from tuneway.retriever.settings import RetrieverSettings
from tuneway.retriever.vectors import VectorStore

log = logging.getLogger(__name__)
SERVICE_NAME = retriever_pb2.DESCRIPTOR.services_by_name["RetrieverService"].full_name
MIGRATIONS = Path(__file__).parent / "migrations"
# An ingestion with no progress for this long and no live job is failed by the sweep.
STALE_SECONDS = 60.0


class RetrieverServer:
    """One running replica: `start()` migrates, opens Qdrant and listens; `stop()` drains."""

    def __init__(self, settings: RetrieverSettings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or load_embedder(
            settings.embedder_backend, settings.embed_batch_size, settings.cache_dir()
        )
        self._engine = create_engine(settings.db_url())
        self.vectors = VectorStore.connect(
            settings.qdrant_url,
            settings.qdrant_api_key,
            settings.qdrant_path(),
            f"{settings.collection_prefix}_minilm_l6_v2",
            self.embedder.dimensions,
        )
        self.service = RetrieverService.build(
            session_factory(self._engine),
            self.vectors,
            self.embedder,
            ChunkLimits(
                settings.default_chunk_size, settings.default_chunk_overlap, self.embedder.max_tokens
            ),
            IngestLimits(
                max_bytes=settings.max_document_bytes,
                max_chunks=settings.max_chunks_per_file,
                batch_size=settings.ingest_batch_size,
                artifact_root=settings.artifacts_root(),
            ),
        )
        servicer = RetrieverServicer(self.service, settings.max_embed_inputs)
        self._grpc = build_server(
            service="retriever",
            registrars=[lambda s: retriever_pb2_grpc.add_RetrieverServiceServicer_to_server(servicer, s)],
            service_names=[SERVICE_NAME],
            bind=settings.bind_address(),
        )
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, stale_seconds: float = STALE_SECONDS) -> None:
        """Applies migrations (waiting for the database), opens the collection, then serves."""
        url = self.settings.db_url()
        await retry_forever("retriever database", lambda: upgrade_database(url, MIGRATIONS))
        await retry_forever("qdrant", self.vectors.ensure_collection)
        # Local mode is one process by construction (Qdrant locks its directory), so whatever was
        # running is dead; replicas sharing a server wait for the staleness limit instead.
        await self.service.ingestor.recover(stale_seconds if self.settings.qdrant_url else 0)
        self._sweeper = asyncio.create_task(self._sweep(stale_seconds))
        await self._grpc.start()
        await self._grpc.mark_serving()
        log.info("retriever listening", extra={"port": self.settings.grpc_port})

    async def _sweep(self, stale_seconds: float) -> None:
        """Fails ingestions left behind by a replica that died, now and then."""
        while True:
            await asyncio.sleep(stale_seconds / 2)
            try:
                await self.service.ingestor.recover(stale_seconds)
            except Exception:
                log.exception("ingestion sweep failed")

    async def stop(self) -> None:
        """Stops taking RPCs, lets in-flight ones finish, then stops jobs and closes the stores."""
        await self._grpc.stop(self.settings.drain_seconds)
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.service.ingestor.close()
        await self.vectors.close()
        await self._engine.dispose()


def main() -> None:
    """Entry point: `python -m tuneway.retriever`; runs until SIGTERM/SIGINT, then drains."""
    settings = RetrieverSettings()
    configure_logging("retriever", settings.log_level)
    # Before any thread starts, so the embedder's threads inherit every core (cpu_threads.py).
    release_threads()
    asyncio.run(run_until_stopped(lambda: RetrieverServer(settings), metrics_port=settings.metrics_port))
