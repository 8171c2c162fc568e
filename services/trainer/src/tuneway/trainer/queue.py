"""The TRAINING work queue: requests for a worker to train a job, published at most once per id."""

from __future__ import annotations

import time

from nats.aio.client import Client
from nats.errors import ConnectionReconnectingError

from tuneway.api.events.v1.events_pb2 import TrainingJobRequested
from tuneway.core import nats as tnats

SUBJECT = "training.jobs.requested"


class JobQueue:
    """Publishes job requests with a Nats-Msg-Id, so a repeated publish within the window is dropped."""

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._js = nc.jetstream()

    async def ensure(self) -> None:
        """Creates the TRAINING stream if it does not exist."""
        await tnats.ensure_stream(self._js, tnats.TRAINING_STREAM)

    async def publish(self, job_id: str, tenant_id: str, msg_id: str) -> bool:
        """Queues a job; True when JetStream stored it, False when it was a duplicate of `msg_id`."""
        if not self._nc.is_connected:
            # nats-py would buffer the message until it reconnects and time out waiting for the ack:
            # every retry during an outage would add one more copy to send at reconnection.
            raise ConnectionReconnectingError
        body = TrainingJobRequested(job_id=job_id, tenant_id=tenant_id, requested_at=int(time.time()))
        ack = await self._js.publish(SUBJECT, body.SerializeToString(), headers={"Nats-Msg-Id": msg_id})
        return not ack.duplicate
