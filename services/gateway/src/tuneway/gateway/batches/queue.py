"""The BATCHES work queue: a request for a batch worker to run a batch, stored once per batch id."""

from __future__ import annotations

import time

from nats.aio.client import Client
from nats.errors import ConnectionReconnectingError

from tuneway.api.events.v1.events_pb2 import BatchRequested
from tuneway.core import nats as tnats

SUBJECT = "batches.requested"


class BatchQueue:
    """Publishes batch requests with Nats-Msg-Id = batch id; connects on first use, so a gateway
    starts (and accepts batches) while NATS is down."""

    def __init__(self, nats_url: str) -> None:
        self._url = nats_url
        self._nc: Client | None = None

    async def publish(self, batch_id: str, tenant_id: str) -> bool:
        """Queues a batch; True when JetStream stored it, False when it was a duplicate."""
        if self._nc is None:
            nc = await tnats.connect(self._url, "gateway-batches")
            try:
                await tnats.ensure_stream(nc.jetstream(), tnats.BATCHES_STREAM)
            except BaseException:
                await nc.close()
                raise
            self._nc = nc
        if not self._nc.is_connected:
            # nats-py would buffer the message until it reconnects: each retry during an outage would
            # add one more copy to send then.
            raise ConnectionReconnectingError
        body = BatchRequested(batch_id=batch_id, tenant_id=tenant_id, requested_at=int(time.time()))
        ack = await self._nc.jetstream().publish(
            SUBJECT, body.SerializeToString(), headers={"Nats-Msg-Id": batch_id}
        )
        return not ack.duplicate

    async def close(self) -> None:
        """Closes the connection, if any."""
        if self._nc is not None:
            await tnats.close(self._nc)
            self._nc = None
