"""The bridge from a training thread to the event loop: metrics events, checkpoint rows, stop requests."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.trainer.metrics import TRAINED_TOKENS, TRAINING_LOSS
from tuneway.trainer.models import JobRow
from tuneway.trainer.repository import checkpoints as checkpoint_repo
from tuneway.trainer.repository import job_events as event_repo

log = logging.getLogger(__name__)


class JobProgress:
    """Implements training.Progress: the thread enqueues, a task on the loop writes to the database."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], job_id: str, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._sessions = sessions
        self._job_id = job_id
        self._loop = loop
        self._queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
        self._stop: str | None = None
        self.last_checkpoint_step = 0
        # For the throughput metric: the step the tokens were last counted at, and tokens per step.
        self._counted_step = 0
        self._tokens_per_step = 0.0

    def count_tokens(self, from_step: int, tokens_per_step: float) -> None:
        """Counts `tokens_per_step` training tokens per step logged after `from_step` (a resumed run
        starts from its checkpoint's step, so steps trained before are not counted twice)."""
        self._counted_step, self._tokens_per_step = from_step, tokens_per_step

    # ---- called on the training thread

    def metrics(self, data: dict[str, float]) -> None:
        """Updates the loss and throughput metrics, and queues a metrics event."""
        step = int(data["step"])
        if step > self._counted_step:
            TRAINED_TOKENS.inc((step - self._counted_step) * self._tokens_per_step)
            self._counted_step = step
        if "train_loss" in data:
            TRAINING_LOSS.set(data["train_loss"])
        self._loop.call_soon_threadsafe(self._queue.put_nowait, ("metrics", data))

    def checkpoint(self, step: int, path: Path, metrics: dict[str, float]) -> None:
        """Queues a checkpoint row and its event."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, ("checkpoint", (step, path, metrics)))

    def stop_reason(self) -> str | None:
        """Why training should stop now (cancelled, handback), if it should."""
        return self._stop

    # ---- called on the loop

    def request_stop(self, reason: str) -> None:
        """Makes the training loop stop after its current step (the first reason wins)."""
        self._stop = self._stop or reason

    async def write(self) -> None:
        """Persists queued progress until `close()`; runs as a task for the length of the run."""
        while (item := await self._queue.get()) is not None:
            try:
                await self._write(*item)
            except Exception:
                log.exception("job %s: could not record progress", self._job_id)

    async def close(self) -> None:
        """Flushes what the thread queued, then ends `write()`."""
        self._queue.put_nowait(None)

    async def _write(self, kind: str, payload: Any) -> None:
        async with self._sessions() as s, s.begin():
            job = await s.get(JobRow, self._job_id)
            if job is None:
                return
            if kind == "metrics":
                data = dict(payload)
                step, total = int(data["step"]), int(data["total_steps"])
                data["step"] = step
                data["total_steps"] = total
                job.estimated_finish = int(time.time() + float(data.get("eta_seconds", 0.0)))
                await event_repo.add_event(
                    s,
                    job,
                    f"Step {step}/{total}: training loss={data.get('train_loss', 0):.4f}",
                    type="metrics",
                    data=data,
                )
                return
            step, path, metrics = payload
            uri = f"file://{path}"  # the artifact root is absolute already
            await checkpoint_repo.add_checkpoint(s, job, step, {"step": float(step), **metrics}, uri)
            await event_repo.add_event(s, job, f"Checkpoint saved at step {step}.", data={"step": step})
            self.last_checkpoint_step = step
