"""The end of a trained job: register the adapter version, put its KV key, wait for a replica's ack."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from pathlib import Path

from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.artifacts import directory_sha256
from tuneway.trainer import domain as d
from tuneway.trainer.adapter_registry import Registry
from tuneway.trainer.hyperparams import resolve
from tuneway.trainer.metrics import JOBS, REGISTRATION_SECONDS, REGISTRATIONS
from tuneway.trainer.models import JobRow
from tuneway.trainer.repository import columns
from tuneway.trainer.repository import job_events as event_repo
from tuneway.trainer.repository import jobs as job_repo

log = logging.getLogger(__name__)
LOADED_SUBJECT = "adapters.loaded"


class AdapterPublisher:
    """Records the version, makes replicas load it, and only then marks the job succeeded."""

    def __init__(
        self, nc: Client, sessions: async_sessionmaker[AsyncSession], registry: Registry, wait_seconds: float
    ) -> None:
        self._nc = nc
        self._sessions = sessions
        self._registry = registry
        self._wait = wait_seconds

    async def finish(
        self, job_id: str, adapter: Path, metrics: dict[str, float], trained_tokens: int
    ) -> None:
        """Registers the job's adapter and marks the job succeeded (a cancelled job's adapter is retired)."""
        sha256 = await asyncio.to_thread(directory_sha256, adapter)
        async with self._sessions() as s:
            job = await s.get(JobRow, job_id)
            assert job is not None
        # The row holds the numbers resolved at validation; resolving them against a single example
        # would clamp the batch size to 1 and record a batch size the run never used.
        recorded = columns.hyperparameters_from(job.hyperparameters)
        hyper = resolve(recorded, recorded.batch_size or 1)
        settings = {
            **dataclasses.asdict(hyper.public()),
            "learning_rate": hyper.learning_rate,
            "seed": job.seed,
            "lora": job.lora,
        }
        version = await self._registry.record(
            job,
            f"file://{adapter}",  # absolute: the artifact root is resolved
            sha256,
            settings,
            {**metrics, "trained_tokens": float(trained_tokens)},
        )
        key = d.version_key(job.tenant_id, job.id)
        # Subscribe before the put: a replica may load the adapter within milliseconds of it.
        loaded: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        started = time.monotonic()

        async def on_loaded(msg: object) -> None:
            if not loaded.done() and getattr(msg, "data", b"").decode() == sha256:
                loaded.set_result(time.monotonic() - started)

        subscription = await self._nc.subscribe(f"{LOADED_SUBJECT}.{key}", cb=on_loaded)
        try:
            await self._registry.publish(version)
            try:
                seconds: float | None = await asyncio.wait_for(asyncio.shield(loaded), self._wait)
            except TimeoutError:
                seconds = None
        finally:
            await subscription.unsubscribe()
        if seconds is not None:
            REGISTRATION_SECONDS.observe(seconds)
        REGISTRATIONS.labels("unconfirmed" if seconds is None else "loaded").inc()
        await self._succeed(job_id, version, trained_tokens, seconds)

    async def _succeed(
        self, job_id: str, version: d.AdapterVersion, trained_tokens: int, seconds: float | None
    ) -> None:
        # Status and final events commit together, so an event stream that ends on the status has them.
        async with self._sessions() as s, s.begin():
            moved = await job_repo.move_job(
                s,
                job_id,
                (d.RUNNING,),
                status=d.SUCCEEDED,
                fine_tuned_model=version.model,
                trained_tokens=trained_tokens,
                finished_at=int(time.time()),
                estimated_finish=0,
            )
            job = await s.get(JobRow, job_id)
            assert job is not None
            if not moved:
                await event_repo.add_event(
                    s, job, "Job cancelled during registration; the adapter was retired."
                )
            elif seconds is None:
                await event_repo.add_event(
                    s,
                    job,
                    f"Adapter {version.model} registered (version {version.version} of {version.name}); "
                    f"no inference replica confirmed loading it within {self._wait:g} s.",
                    level="warn",
                )
            else:
                await event_repo.add_event(
                    s,
                    job,
                    f"Adapter {version.model} registered (version {version.version} of {version.name}) and "
                    f"loaded in {seconds * 1000:.0f} ms.",
                )
            if moved:
                await event_repo.add_event(s, job, "The job has successfully completed.")
        if not moved:
            # Cancelled while registering: the adapter must not stay served.
            await self._registry.retire(version.tenant_id, version.model)
            return
        JOBS.labels(d.SUCCEEDED).inc()
