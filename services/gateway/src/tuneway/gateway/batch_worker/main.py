"""Composition root of a batch worker: the gateway's database and file store, NATS, the gRPC clients
the chat pipeline uses (generations at batch priority), the line runner and the queue consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket

from tuneway.core import nats as tnats
from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.lifecycle import install_stop_signals, retry_forever
from tuneway.core.logging import configure_logging
from tuneway.core.metrics import serve_metrics
from tuneway.gateway.analytics.completion_ids import CompletionIds, load_secret
from tuneway.gateway.analytics.events import AnalyticsEvents
from tuneway.gateway.app import MIGRATIONS
from tuneway.gateway.batch_worker.consumer import BatchConsumer
from tuneway.gateway.batch_worker.requests import Clients, LineRunner, LowPriorityInference
from tuneway.gateway.batch_worker.runner import BatchRunner
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.files.generated import GeneratedFiles
from tuneway.gateway.files.store import FileStore
from tuneway.gateway.models.aliases import ModelAliases
from tuneway.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


async def serve(settings: GatewaySettings) -> None:
    """Runs batches until SIGTERM/SIGINT; the batch in hand is handed back after its lines in flight."""
    stop = install_stop_signals()
    serve_metrics(settings.batch_worker_metrics_port)
    url = settings.db_url()
    # The gateway migrates too (under the same lock); a worker may start first.
    await retry_forever("gateway database", lambda: upgrade_database(url, MIGRATIONS), stop=stop)
    engine = create_engine(url)
    sessions = session_factory(engine)
    nc = await retry_forever("NATS", lambda: tnats.connect(settings.nats_url, "batch-worker"), stop=stop)
    inference = LowPriorityInference(
        settings.inference_target,
        settings.rpc_timeout_seconds,
        settings.inference_connect_seconds,
        settings.batch_priority,
    )
    prompts = PromptClient(settings.prompt_target, settings.rpc_timeout_seconds)
    retriever = RetrieverClient(
        settings.retriever_target, settings.rpc_timeout_seconds, settings.ingest_timeout_seconds
    )
    secret = load_secret(settings.completion_id_secret, settings.completion_id_secret_file())
    # Lines are not sent to analytics (nor charged to rate limits): AnalyticsEvents without a sink.
    aliases = ModelAliases(sessions, settings.model_alias_cache_seconds)
    clients = Clients(inference, prompts, retriever, AnalyticsEvents(None), CompletionIds(secret), aliases)
    runner = BatchRunner(
        sessions,
        GeneratedFiles(sessions, FileStore(settings.files_dir())),
        LineRunner(clients),
        settings.batch_concurrency,
    )
    consumer = BatchConsumer(
        nc,
        sessions,
        runner,
        settings.batch_ack_wait_seconds,
        worker_id=f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}",
    )
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait({task, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
    log.info("batch worker stopping")
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task  # returns once the batch in hand is finished or handed back
    finally:
        aliases.close()
        await tnats.close(nc)
        await inference.close()
        await prompts.close()
        await retriever.close()
        await engine.dispose()


def main() -> None:
    """`python -m tuneway.gateway.batch_worker`."""
    settings = GatewaySettings()
    configure_logging("batch-worker", settings.log_level)
    asyncio.run(serve(settings))
