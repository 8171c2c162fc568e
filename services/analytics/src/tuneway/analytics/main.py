"""Composition root of the analytics service: store, NATS consumer, classifier, gRPC server, metrics."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from nats.aio.client import Client

from tuneway.analytics.classification import TenantClassifier
from tuneway.analytics.consumer import ConsumerSettings, EventConsumer
from tuneway.analytics.ingest import EventWriter
from tuneway.analytics.query_types.classifier import QueryClassifier
from tuneway.analytics.query_types.embedder import RetrieverEmbedder
from tuneway.analytics.retention import RetentionTask
from tuneway.analytics.rollup_folding import FoldingTask
from tuneway.analytics.service import AnalyticsService
from tuneway.analytics.servicer import AnalyticsServicer
from tuneway.analytics.settings import AnalyticsSettings
from tuneway.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.grpc_server import build_server
from tuneway.core.lifecycle import retry_forever, run_until_stopped
from tuneway.core.logging import configure_logging
from tuneway.core.nats import EVENTS_STREAM, connect, ensure_stream

log = logging.getLogger(__name__)
SERVICE_NAME = analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
MIGRATIONS = Path(__file__).parent / "migrations"


class AnalyticsServer:
    """One running replica: `start()` migrates, connects, consumes and listens; `stop()` drains."""

    def __init__(self, settings: AnalyticsSettings) -> None:
        self.settings = settings
        self._engine = create_engine(settings.db_url())
        sessions = session_factory(self._engine)
        self._embedder = RetrieverEmbedder(settings.retriever_target)
        classifier = QueryClassifier(embed=self._embedder.embed, threshold=settings.classification_threshold)
        self.classifier = TenantClassifier(sessions, classifier)
        self.writer = EventWriter(sessions)
        self.service = AnalyticsService.build(
            sessions,
            self.classifier,
            threshold=settings.classification_threshold,
            min_sample_default=settings.min_sample_default,
        )
        self.retention = RetentionTask(
            sessions, settings.raw_retention_days, settings.retention_interval_seconds
        )
        self.folding = FoldingTask(
            sessions, settings.rollup_fold_grace_seconds, settings.rollup_fold_interval_seconds
        )
        self._nats: Client | None = None
        self.consumer: EventConsumer | None = None
        self._grpc = build_server(
            service="analytics",
            registrars=[
                lambda s: analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(
                    AnalyticsServicer(self.service), s
                )
            ],
            service_names=[SERVICE_NAME],
            bind=settings.bind_address(),
        )

    async def start(self) -> None:
        """Applies migrations, connects to NATS (both waiting for their dependency), then consumes
        and serves."""
        settings = self.settings
        url = settings.db_url()
        await retry_forever("analytics database", lambda: upgrade_database(url, MIGRATIONS))
        self._nats = await retry_forever("nats", lambda: connect(settings.nats_url, "analytics"))
        js = self._nats.jetstream()
        await retry_forever("EVENTS stream", lambda: ensure_stream(js, EVENTS_STREAM))
        self.consumer = EventConsumer(
            js,
            self.writer,
            self.classifier.classify_events,
            ConsumerSettings(
                batch_size=settings.batch_size,
                fetch_timeout_seconds=settings.fetch_timeout_seconds,
                ack_wait_seconds=settings.ack_wait_seconds,
                retry_initial_seconds=settings.retry_initial_seconds,
                retry_max_seconds=settings.retry_max_seconds,
                pending_refresh_seconds=settings.pending_refresh_seconds,
            ),
        )
        await retry_forever("analytics consumer", self.consumer.start)
        self.retention.start()
        self.folding.start()
        await self._grpc.start()
        await self._grpc.mark_serving()
        log.info("analytics listening", extra={"port": settings.grpc_port})

    async def stop(self) -> None:
        """Stops taking RPCs, finishes the batch in hand, then closes NATS, the retriever and the database."""
        await self._grpc.stop(self.settings.drain_seconds)
        if self.consumer is not None:
            await self.consumer.stop()
        await self.retention.stop()
        await self.folding.stop()
        if self._nats is not None:
            await self._nats.close()
        await self._embedder.close()
        await self._engine.dispose()


def main() -> None:
    """Entry point: `python -m tuneway.analytics`; runs until SIGTERM/SIGINT, then drains."""
    settings = AnalyticsSettings()
    configure_logging("analytics", settings.log_level)
    asyncio.run(run_until_stopped(lambda: AnalyticsServer(settings), metrics_port=settings.metrics_port))
