"""Composition root of the inference service: engine, adapter watcher, gRPC server, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tuneway.api.inference.v1 import inference_pb2, inference_pb2_grpc
from tuneway.core import nats as tnats
from tuneway.core.grpc_server import build_server, mark_serving
from tuneway.core.lifecycle import freeze_startup_heap, install_stop_signals, retry_forever
from tuneway.core.logging import configure_logging
from tuneway.core.metrics import serve_metrics
from tuneway.inference.adapters import AdapterReconciler, AdapterSet, watch_adapters
from tuneway.inference.cpu_affinity import pin_engine_core_to_workers
from tuneway.inference.engine import build_engine
from tuneway.inference.service import InferenceService
from tuneway.inference.servicer import InferenceServicer
from tuneway.inference.settings import InferenceSettings

log = logging.getLogger(__name__)
SERVICE_NAME = inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name


async def serve(settings: InferenceSettings) -> None:
    """Runs the service until SIGTERM/SIGINT, then drains in-flight generations."""
    stop = install_stop_signals()
    serve_metrics(settings.metrics_port)
    engine = build_engine(settings)
    if settings.pin_engine_core:
        pin_engine_core_to_workers()
    adapters = AdapterSet()
    service = InferenceService(engine, adapters, settings.model_name(), settings.max_model_len)
    servicer = InferenceServicer(service, adapters)

    server, health = build_server(
        service="inference",
        registrars=[lambda s: inference_pb2_grpc.add_InferenceServiceServicer_to_server(servicer, s)],
        service_names=[SERVICE_NAME],
        bind=f"{settings.host}:{settings.grpc_port}",
    )
    await server.start()
    log.info("inference listening", extra={"port": settings.grpc_port, "model": settings.model_name()})

    # NATS may come up after us: keep retrying, and report SERVING only once every registered
    # adapter is loaded, so a new replica never answers 404 for a registered model.
    nc = await retry_forever("NATS", lambda: tnats.connect(settings.nats_url, "inference"), stop=stop)
    kv = await retry_forever(
        "ADAPTERS bucket", lambda: tnats.ensure_kv(nc.jetstream(), tnats.ADAPTERS_BUCKET)
    )
    reconciler = AdapterReconciler(engine, adapters, settings.model_name(), announce=nc.publish)
    watcher = asyncio.create_task(watch_adapters(kv, reconciler))
    synced = asyncio.create_task(reconciler.synced.wait())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({synced, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not stop.is_set():
        freeze_startup_heap()
        await mark_serving(health, [SERVICE_NAME])
        log.info("inference ready", extra={"adapters": len(list(adapters.all()))})
    await stopping
    synced.cancel()
    log.info("draining")
    await health.enter_graceful_shutdown()
    servicer.drain()  # long-lived generation streams end once their calls have
    await server.stop(settings.drain_seconds)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    await nc.drain()
    engine.shutdown()


def main() -> None:
    """Entry point: `python -m tuneway.inference`."""
    settings = InferenceSettings()
    configure_logging("inference", settings.log_level)
    asyncio.run(serve(settings))
