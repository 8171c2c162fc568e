"""Composition root of the trainer API: store, NATS, domain services, gRPC server and the scheduler."""

from __future__ import annotations

import asyncio
import logging

from nats.aio.client import Client

from tuneway.api.trainer.v1 import trainer_pb2, trainer_pb2_grpc
from tuneway.core import nats as tnats
from tuneway.core.db import create_engine, session_factory
from tuneway.core.grpc_server import GrpcServer, build_server
from tuneway.core.lifecycle import retry_forever
from tuneway.trainer.api.job_gauges import JobGauges
from tuneway.trainer.api.service import TrainerService
from tuneway.trainer.api.servicer import TrainerServicer
from tuneway.trainer.foundation_model import FoundationModel
from tuneway.trainer.queue import JobQueue
from tuneway.trainer.settings import TrainerSettings
from tuneway.trainer.startup import migrate_and_connect

log = logging.getLogger(__name__)
SERVICE_NAME = trainer_pb2.DESCRIPTOR.services_by_name["TrainerService"].full_name
# How often the queue-depth and running-jobs gauges are recounted.
JOB_GAUGES_SECONDS = 5.0


class TrainerApi:
    """One API replica: `start()` migrates, connects and listens; `stop()` drains."""

    def __init__(self, settings: TrainerSettings) -> None:
        self.settings = settings
        self._engine = create_engine(settings.db_url())
        self._sessions = session_factory(self._engine)
        self.base = FoundationModel(settings.base_model_id(), settings.base_model_path())
        self._stop = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self.job_gauges = JobGauges(self._sessions)
        self._gauges: asyncio.Task[None] | None = None
        self._nc: Client | None = None
        self._grpc: GrpcServer | None = None
        self.service: TrainerService | None = None

    async def start(self, *, scheduler: bool = True) -> None:
        """Serves RPCs once the database, the TRAINING stream and the ADAPTERS bucket are there."""
        nc = self._nc = await migrate_and_connect(self.settings, "trainer-api", None)
        js = nc.jetstream()
        queue = JobQueue(nc)
        await retry_forever("TRAINING stream", queue.ensure)
        kv = await retry_forever("ADAPTERS bucket", lambda: tnats.ensure_kv(js, tnats.ADAPTERS_BUCKET))
        self.service = TrainerService.build(
            self._sessions,
            self.base,
            queue.publish,
            kv,
            self.settings.max_seq_length,
            self.settings.dispatch_retry_seconds,
        )
        service = self.service
        grpc_server = self._grpc = build_server(
            service="trainer",
            registrars=[
                lambda s: trainer_pb2_grpc.add_TrainerServiceServicer_to_server(TrainerServicer(service), s)
            ],
            service_names=[SERVICE_NAME],
            bind=self.settings.bind_address(),
        )
        await grpc_server.start()
        recovered = await service.pipeline.recover()
        # Its first pass publishes what this or another replica queued and could not publish.
        self._dispatcher = asyncio.create_task(service.dispatcher.run(self._stop))
        if scheduler:
            self._scheduler = asyncio.create_task(
                service.scheduler.run(self.settings.scheduler_tick_seconds, self._stop)
            )
        self._gauges = asyncio.create_task(self.job_gauges.run(JOB_GAUGES_SECONDS, self._stop))
        await grpc_server.mark_serving()
        log.info("trainer api listening", extra={"port": self.settings.grpc_port, "recovered": recovered})

    async def stop(self) -> None:
        """Stops taking RPCs, lets in-flight ones finish, then closes NATS and the database."""
        self._stop.set()
        if self._grpc is not None:  # None when SIGTERM came before the server was built
            await self._grpc.stop(self.settings.drain_seconds)
        if self._scheduler is not None:
            await self._scheduler
        if self.service is not None:
            await self.service.pipeline.close()
            self.service.dispatcher.kick()
        if self._dispatcher is not None:
            await self._dispatcher
        if self._gauges is not None:
            await self._gauges
        if self._nc is not None:
            await tnats.close(self._nc)
        await self._engine.dispose()
