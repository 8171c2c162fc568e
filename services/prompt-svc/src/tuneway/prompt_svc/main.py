"""Composition root of the prompt service: store, caches, invalidation, sandbox, gRPC server, metrics."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from tuneway.api.prompt.v1 import prompt_pb2, prompt_pb2_grpc
from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.grpc_server import build_server
from tuneway.core.lifecycle import retry_forever, run_until_stopped
from tuneway.core.logging import configure_logging
from tuneway.prompt_svc.cache import TenantCache
from tuneway.prompt_svc.invalidation import Invalidator
from tuneway.prompt_svc.language import LanguageDetector
from tuneway.prompt_svc.sandbox import Limits
from tuneway.prompt_svc.service import PromptService
from tuneway.prompt_svc.servicer import PromptServicer
from tuneway.prompt_svc.settings import PromptSettings

log = logging.getLogger(__name__)
SERVICE_NAME = prompt_pb2.DESCRIPTOR.services_by_name["PromptService"].full_name
MIGRATIONS = Path(__file__).parent / "migrations"


class PromptServer:
    """One running replica: `start()` migrates, connects and listens; `stop()` drains."""

    def __init__(self, settings: PromptSettings, detector: LanguageDetector | None = None) -> None:
        self.settings = settings
        self.cache = TenantCache(settings.cache_ttl_seconds)
        self.invalidator = Invalidator(self.cache, settings.nats_url)
        self._engine = create_engine(settings.db_url())
        limits = Limits(
            max_template_chars=settings.max_template_chars,
            max_output_chars=settings.max_output_chars,
            max_steps=settings.max_render_steps,
            timeout_seconds=settings.render_timeout_ms / 1000,
        )
        self.service = PromptService.build(
            session_factory(self._engine),
            limits,
            self.cache,
            self.invalidator,
            detector or LanguageDetector(settings.language_codes()),
        )
        self._grpc = build_server(
            service="prompt-svc",
            registrars=[
                lambda s: prompt_pb2_grpc.add_PromptServiceServicer_to_server(PromptServicer(self.service), s)
            ],
            service_names=[SERVICE_NAME],
            bind=settings.bind_address(),
        )

    async def start(self) -> None:
        """Applies migrations (waiting for the database), starts invalidation and serving."""
        url = self.settings.db_url()
        await retry_forever("prompt-svc database", lambda: upgrade_database(url, MIGRATIONS))
        self.invalidator.start()
        await self._grpc.start()
        await self._grpc.mark_serving()
        log.info("prompt-svc listening", extra={"port": self.settings.grpc_port})

    async def stop(self) -> None:
        """Stops taking RPCs, lets in-flight ones finish, then closes NATS and the database."""
        await self._grpc.stop(self.settings.drain_seconds)
        await self.invalidator.close()
        await self._engine.dispose()


def main() -> None:
    """Entry point: `python -m tuneway.prompt_svc`; runs until SIGTERM/SIGINT, then drains."""
    settings = PromptSettings()
    configure_logging("prompt-svc", settings.log_level)
    asyncio.run(run_until_stopped(lambda: PromptServer(settings), metrics_port=settings.metrics_port))
