"""create_app: the gateway's composition root for HTTP (database, keys, clients, routes, middleware)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import Depends, FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.lifecycle import freeze_startup_heap, retry_forever
from tuneway.core.metrics import serve_metrics, stop_metrics
from tuneway.gateway.analytics import routes as analytics
from tuneway.gateway.analytics.completion_ids import CompletionIds, load_secret
from tuneway.gateway.analytics.events import AnalyticsEvents
from tuneway.gateway.analytics.outbox import Outbox
from tuneway.gateway.analytics.publisher import EventPublisher
from tuneway.gateway.audit import routes as audit
from tuneway.gateway.audit.service import AuditLog
from tuneway.gateway.batches import routes as batches
from tuneway.gateway.batches.dispatcher import BatchDispatcher
from tuneway.gateway.batches.queue import BatchQueue
from tuneway.gateway.batches.service import BatchService
from tuneway.gateway.chat import routes as chat
from tuneway.gateway.clients.analytics import AnalyticsClient
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.completions import routes as completions
from tuneway.gateway.cors import add_cors
from tuneway.gateway.deps import Services
from tuneway.gateway.errors import install_error_handlers
from tuneway.gateway.files import routes as files
from tuneway.gateway.files.service import FileService
from tuneway.gateway.files.store import FileStore
from tuneway.gateway.fine_tuning import routes as fine_tuning
from tuneway.gateway.knowledge import routes as knowledge
from tuneway.gateway.middleware import BodyLimitMiddleware, MetricsMiddleware
from tuneway.gateway.models import routes as models
from tuneway.gateway.models.aliases import ModelAliases
from tuneway.gateway.models.catalog import BaseModels
from tuneway.gateway.nul_bytes import NulBytesMiddleware
from tuneway.gateway.openapi import document
from tuneway.gateway.operations import routes as operations
from tuneway.gateway.prompts import routes as prompts
from tuneway.gateway.rate_limits.dependency import enforce_rate_limits
from tuneway.gateway.rate_limits.headers import RateLimitHeadersMiddleware
from tuneway.gateway.rate_limits.limiter import RateLimiter
from tuneway.gateway.request_ids import RequestIdMiddleware
from tuneway.gateway.responses import routes as responses
from tuneway.gateway.settings import GatewaySettings
from tuneway.gateway.tenancy import routes as tenancy
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.authentication import Authenticator
from tuneway.gateway.tenancy.bootstrap import bootstrap

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The FastAPI app; its lifespan migrates the database, bootstraps the admin key and opens clients."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.db_url()
        await retry_forever("gateway database", lambda: upgrade_database(url, MIGRATIONS))
        engine = create_engine(url)
        sessions = session_factory(engine)
        generated = await bootstrap(sessions, settings.bootstrap_key, settings.admin_key_file())
        if generated:
            # Printed once, on the run that created it; it is also in the key file (mode 0600).
            print(
                f"tuneway admin key (shown once, saved to {settings.admin_key_file()}): {generated}",
                flush=True,
            )
        authenticator = Authenticator(sessions, settings.key_cache_seconds)
        inference = InferenceClient(
            settings.inference_target,
            settings.rpc_timeout_seconds,
            settings.inference_connect_seconds,
            settings.inference_resolve_seconds,
        )
        trainer = TrainerClient(
            settings.trainer_target, settings.rpc_timeout_seconds, settings.validation_timeout_seconds
        )
        file_service = FileService(
            sessions, FileStore(settings.files_dir()), trainer, settings.max_file_bytes
        )
        prompts = PromptClient(settings.prompt_target, settings.rpc_timeout_seconds)
        retriever = RetrieverClient(
            settings.retriever_target, settings.rpc_timeout_seconds, settings.ingest_timeout_seconds
        )
        analytics_client = AnalyticsClient(settings.analytics_target, settings.rpc_timeout_seconds)
        secret = load_secret(settings.completion_id_secret, settings.completion_id_secret_file())
        # Events leave through a background publisher (and its on-disk outbox while NATS is away).
        publisher = None
        if settings.analytics_enabled:
            outbox = Outbox(settings.outbox_file(), settings.outbox_max_events)
            publisher = EventPublisher(settings.nats_url, outbox)
            await publisher.start()
        # Batches are stored first, then published to BATCHES from the database (NATS may be down).
        batch_queue = BatchQueue(settings.nats_url)
        dispatcher = BatchDispatcher(sessions, batch_queue.publish, settings.batch_dispatch_retry_seconds)
        dispatcher.start()
        base_models = BaseModels(inference)
        rate_limiter = RateLimiter.from_url(settings.redis_url or None)
        model_aliases = ModelAliases(sessions, settings.model_alias_cache_seconds)
        app.state.services = Services(
            settings=settings,
            db=engine,
            authenticator=authenticator,
            tenancy=TenancyAdmin(sessions, authenticator),
            inference=inference,
            trainer=trainer,
            files=file_service,
            prompts=prompts,
            retriever=retriever,
            analytics=analytics_client,
            analytics_events=AnalyticsEvents(
                publisher.submit if publisher else None, base_models, usage=rate_limiter.charge
            ),
            completion_ids=CompletionIds(secret),
            rate_limiter=rate_limiter,
            batches=BatchService(sessions, file_service, dispatcher.kick),
            model_aliases=model_aliases,
            audit=AuditLog(sessions),
        )
        metrics_server = None
        try:
            # Its own port (a thread of prometheus_client's), as every service's; started last so that
            # a taken port fails the start after the clients above exist, and the finally closes them.
            metrics_server = serve_metrics(settings.metrics_port, settings.host)
            freeze_startup_heap()
            yield
        finally:
            await asyncio.to_thread(stop_metrics, metrics_server)
            # First: what is still queued goes to the outbox, for the next start to publish.
            if publisher is not None:
                await publisher.stop()
            await dispatcher.stop()
            await batch_queue.close()
            await rate_limiter.close()
            base_models.close()
            model_aliases.close()
            await analytics_client.close()
            await inference.close()
            await trainer.close()
            await prompts.close()
            await retriever.close()
            await engine.dispose()

    app = FastAPI(
        title="tuneway",
        summary="Customise an LLM by prompts, fine-tuning and retrieval; one OpenAI-compatible API.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.openapi = partial(document, app)  # type: ignore[method-assign]
    install_error_handlers(app, settings.retry_after_seconds)
    # One router per domain; /healthz and /readyz first. Generations count against rate limits
    # (the embeddings route declares it itself, its router being the knowledge domain's).
    for domain in (
        operations,
        models,
        chat,
        completions,
        responses,
        tenancy,
        prompts,
        knowledge,
        files,
        batches,
        fine_tuning,
        analytics,
        audit,
    ):
        limited = [Depends(enforce_rate_limits)] if domain in (chat, responses) else []
        app.include_router(domain.router, dependencies=limited)
    if settings.metrics_on_api_port:
        app.include_router(operations.metrics_router)
    # Uploads stream past the general body limit; the file's own limit is enforced as its bytes arrive,
    # and the form around it may hold up to max_body_bytes more.
    upload_limit = settings.max_file_bytes + settings.max_body_bytes
    app.add_middleware(
        BodyLimitMiddleware, limit=settings.max_body_bytes, path_limits={"/v1/files": upload_limit}
    )
    app.add_middleware(NulBytesMiddleware)
    if settings.gzip_minimum_bytes:
        # Never text/event-stream (among Starlette's exclusions): each event must leave as it is sent.
        # Nor files' bytes, served as uploaded with their length.
        app.add_middleware(
            GZipMiddleware,
            minimum_size=settings.gzip_minimum_bytes,
            compresslevel=6,  # zlib's default: most of level 9's gain for a fraction of its CPU
            exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/octet-stream"),
        )
    add_cors(app, settings.cors_origins)
    app.add_middleware(MetricsMiddleware, tenant_label=settings.metrics_tenant_label)
    app.add_middleware(RateLimitHeadersMiddleware)
    # Outermost (added last): every response gets its x-request-id, the 413s and CORS preflights too.
    app.add_middleware(RequestIdMiddleware)
    return app
