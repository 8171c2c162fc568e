"""The trainer's domain services, built from one store, base model, work queue and KV bucket."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.trainer.adapter_registry import KeyValueStore, Registry
from tuneway.trainer.api.dataset_service import DatasetService
from tuneway.trainer.api.jobs import JobLimits, JobService, Publish
from tuneway.trainer.api.schedules import ScheduleService
from tuneway.trainer.foundation_model import FoundationModel


@dataclass(frozen=True)
class TrainerService:
    """Datasets, jobs, the adapter registry and schedules; the servicer calls these."""

    datasets: DatasetService
    jobs: JobService
    registry: Registry
    schedules: ScheduleService

    @classmethod
    def build(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        base: FoundationModel,
        publish: Publish,
        kv: KeyValueStore,
        limits: JobLimits,
    ) -> TrainerService:
        """Wires the parts together."""
        jobs = JobService(sessions, base, publish, limits)
        return cls(
            datasets=DatasetService(sessions, base, limits.max_seq_length),
            jobs=jobs,
            registry=Registry(sessions, kv),
            schedules=ScheduleService(sessions, base, jobs),
        )
