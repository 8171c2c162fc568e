"""The TRAINING work queue: requests for a worker to train a job, published at most once per id."""

from __future__ import annotations

import time

from nats.js import JetStreamContext

from tuneway.api.events.v1.events_pb2 import TrainingJobRequested
from tuneway.core import nats as tnats

SUBJECT = "training.jobs.requested"


class JobQueue:
    """Publishes job requests with a Nats-Msg-Id, so a repeated publish within the window is dropped."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def ensure(self) -> None:
        """Creates the TRAINING stream if it does not exist."""
        await tnats.ensure_stream(self._js, tnats.TRAINING_STREAM)

    async def publish(self, job_id: str, tenant_id: str, msg_id: str) -> bool:
        """Queues a job; True when JetStream stored it, False when it was a duplicate of `msg_id`."""
        body = TrainingJobRequested(job_id=job_id, tenant_id=tenant_id, requested_at=int(time.time()))
        ack = await self._js.publish(SUBJECT, body.SerializeToString(), headers={"Nats-Msg-Id": msg_id})
        return not ack.duplicate
