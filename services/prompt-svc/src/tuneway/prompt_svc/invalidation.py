"""Cross-replica cache invalidation over the core NATS subject `prompts.invalidate`."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg

from tuneway.core.lifecycle import retry_forever
from tuneway.prompt_svc.cache import TenantCache
from tuneway.prompt_svc.metrics import INVALIDATIONS

log = logging.getLogger(__name__)
SUBJECT = "prompts.invalidate"


class Invalidator:
    """Publishes a tenant's changes and drops the caches of every replica, this one included.

    Core NATS delivers at most once; the cache is therefore only live while the subscription is,
    and every reconnect starts from an empty cache, so a missed message cannot leave a stale label.
    """

    def __init__(self, cache: TenantCache, nats_url: str) -> None:
        self._cache = cache
        self._url = nats_url
        self._nc: Client | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connects in the background; the service serves (uncached) until NATS answers."""
        self._task = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        nc = await retry_forever("NATS", self._open)
        await nc.subscribe(SUBJECT, cb=self._received)
        await nc.flush()
        self._nc = nc
        self._cache.set_live(True)
        log.info("cache invalidation subscribed", extra={"subject": SUBJECT})

    async def _open(self) -> Client:
        # Probe first, as tuneway.core.nats.connect does: nats-py alone would retry inside connect.
        target = urlparse(self._url)
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(target.hostname or "127.0.0.1", target.port or 4222), 2.0
        )
        writer.close()
        return await nats.connect(
            servers=[self._url],
            name="prompt-svc",
            connect_timeout=2.0,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            allow_reconnect=True,
            disconnected_cb=self._disconnected,
            reconnected_cb=self._reconnected,
            error_cb=self._error,
        )

    async def _error(self, error: Exception) -> None:
        log.warning("NATS: %s", error)

    async def _disconnected(self) -> None:
        self._cache.set_live(False)

    async def _reconnected(self) -> None:
        self._cache.set_live(True)

    async def _received(self, msg: Msg) -> None:
        INVALIDATIONS.labels("received").inc()
        self._cache.invalidate(msg.data.decode())

    async def publish(self, tenant_id: str) -> None:
        """Drops the tenant's entries here at once, and on the other replicas via NATS."""
        self._cache.invalidate(tenant_id)
        if self._nc is not None and self._nc.is_connected:
            try:
                await self._nc.publish(SUBJECT, tenant_id.encode())
                INVALIDATIONS.labels("sent").inc()
            except Exception as error:  # the reconnect handler empties every replica's cache anyway
                log.warning("invalidation not sent: %s", error)

    async def close(self) -> None:
        """Stops connecting and closes the connection."""
        if self._task is not None:
            self._task.cancel()
        if self._nc is not None:
            await self._nc.drain()
