"""Composition root of the inference service: engine, adapter watcher, gRPC server, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from nats.aio.client import Client

from tuneway.api.inference.v1 import inference_pb2, inference_pb2_grpc
from tuneway.core import nats as tnats
from tuneway.core.grpc_server import build_server
from tuneway.core.lifecycle import retry_forever, run_until_stopped
from tuneway.core.logging import configure_logging
from tuneway.inference.adapters import AdapterReconciler, AdapterSet, watch_adapters
from tuneway.inference.cpu_affinity import pin_engine_core_to_workers
from tuneway.inference.engine import build_engine, warm_up
from tuneway.inference.service import InferenceService
from tuneway.inference.servicer import InferenceServicer
from tuneway.inference.settings import InferenceSettings

log = logging.getLogger(__name__)
# How long the engine's processes get to exit after the drain (they normally take a few seconds).
ENGINE_STOP_SECONDS = 15.0
SERVICE_NAME = inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name


class InferenceServer:
    """One replica: `start()` listens, then loads every registered adapter before it reports SERVING;
    `stop()` drains in-flight generations."""

    def __init__(self, settings: InferenceSettings) -> None:
        self.settings = settings
        self.engine = build_engine(settings)
        if settings.pin_engine_core:
            pin_engine_core_to_workers()
        self.adapters = AdapterSet()
        service = InferenceService(
            self.engine,
            self.adapters,
            settings.model_name(),
            settings.max_model_len,
            tool_parser=settings.tool_parser,
            max_n=settings.max_n,
        )
        self._servicer = InferenceServicer(service, self.adapters)
        self._grpc = build_server(
            service="inference",
            registrars=[
                lambda s: inference_pb2_grpc.add_InferenceServiceServicer_to_server(self._servicer, s)
            ],
            service_names=[SERVICE_NAME],
            bind=settings.bind_address(),
        )
        self._nc: Client | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._engine_watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listens at once, then follows the ADAPTERS bucket and reports SERVING once every adapter
        registered there is loaded, so a new replica never answers 404 for a registered model."""
        settings = self.settings
        self._engine_watch = asyncio.create_task(self._stop_when_engine_dies())
        await self._grpc.start()
        log.info("inference listening", extra={"port": settings.grpc_port, "model": settings.model_name()})
        # NATS may come up after us: keep retrying (SIGTERM cancels the wait).
        self._nc = nc = await retry_forever("NATS", lambda: tnats.connect(settings.nats_url, "inference"))
        kv = await retry_forever(
            "ADAPTERS bucket", lambda: tnats.ensure_kv(nc.jetstream(), tnats.ADAPTERS_BUCKET)
        )
        reconciler = AdapterReconciler(self.engine, self.adapters, settings.model_name(), announce=nc.publish)
        self._watcher = asyncio.create_task(watch_adapters(kv, reconciler))
        await reconciler.synced.wait()
        await warm_up(self.engine)
        await self._grpc.mark_serving()
        log.info("inference ready", extra={"adapters": len(list(self.adapters.all()))})

    async def stop(self) -> None:
        """Refuses new calls, lets generations in flight finish, then closes NATS and the engine."""
        if self._engine_watch is not None:
            self._engine_watch.cancel()
        self._servicer.drain()  # long-lived generation streams end once their calls have
        await self._grpc.stop(self.settings.drain_seconds)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._nc is not None:
            await self._nc.drain()
        # vLLM then terminates its engine core, which stops its workers; the default 5 s was measured
        # nearly spent on a loaded 2-core machine, past which vLLM kills the processes mid-teardown.
        self.engine.shutdown(timeout=ENGINE_STOP_SECONDS)

    async def _stop_when_engine_dies(self) -> None:
        """vLLM's engine core can die under the service (killed, out of memory); every generation
        would then be a 503 for good, so the replica stops as on SIGTERM and its supervisor (the
        launcher, Kubernetes) starts a new one."""
        # vLLM signals no one when its engine dies; its own API server checks `errored` the same way.
        while not self.engine.errored:  # noqa: ASYNC110
            await asyncio.sleep(1)
        log.error("the vLLM engine died; stopping this replica so that a new one starts")
        os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    """Entry point: `python -m tuneway.inference`; runs until SIGTERM/SIGINT, then drains."""
    settings = InferenceSettings()
    configure_logging("inference", settings.log_level)
    asyncio.run(run_until_stopped(lambda: InferenceServer(settings), metrics_port=settings.metrics_port))
