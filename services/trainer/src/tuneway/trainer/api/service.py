"""The trainer's domain services, built from one store, base model, work queue and KV bucket."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.trainer.adapter_registry import KeyValueStore, Registry
from tuneway.trainer.api.dataset_service import DatasetService
from tuneway.trainer.api.job_dispatcher import JobDispatcher, Publish
from tuneway.trainer.api.job_pipeline import JobPipeline
from tuneway.trainer.api.jobs import JobService
from tuneway.trainer.api.scheduler import Scheduler
from tuneway.trainer.api.schedules import ScheduleService
from tuneway.trainer.foundation_model import FoundationModel


@dataclass(frozen=True)
class TrainerService:
    """Datasets, jobs, the adapter registry and schedules, which the servicer calls; the job pipeline,
    the dispatcher and the scheduler, which run in the background."""

    datasets: DatasetService
    jobs: JobService
    pipeline: JobPipeline
    dispatcher: JobDispatcher
    registry: Registry
    schedules: ScheduleService
    scheduler: Scheduler

    @classmethod
    def build(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        base: FoundationModel,
        publish: Publish,
        kv: KeyValueStore,
        max_seq_length: int,
        dispatch_retry_seconds: float,
    ) -> TrainerService:
        """Wires the parts together."""
        dispatcher = JobDispatcher(sessions, publish, dispatch_retry_seconds)
        pipeline = JobPipeline(sessions, base, dispatcher.kick, max_seq_length)
        jobs = JobService(sessions, base, pipeline)
        return cls(
            datasets=DatasetService(sessions, base, max_seq_length),
            jobs=jobs,
            pipeline=pipeline,
            dispatcher=dispatcher,
            registry=Registry(sessions, kv),
            schedules=ScheduleService(sessions, base),
            scheduler=Scheduler(sessions, jobs, pipeline),
        )
