"""NATS connection and the JetStream streams and KV buckets that ARCHITECTURE.md names."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, RetentionPolicy, StreamConfig
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)

ADAPTERS_BUCKET = "ADAPTERS"
TRAINING_STREAM = StreamConfig(
    name="TRAINING", subjects=["training.jobs.requested"], retention=RetentionPolicy.WORK_QUEUE
)
EVENTS_STREAM = StreamConfig(
    name="EVENTS", subjects=["events.completions", "events.feedback"], retention=RetentionPolicy.LIMITS
)


async def connect(url: str, name: str, *, connect_timeout: float = 2.0) -> Client:
    """Connects with reconnects forever: a NATS restart must not take the service down."""
    return await nats.connect(
        servers=[url],
        name=name,
        connect_timeout=connect_timeout,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Creates the stream if it does not exist; an existing one is left as it is."""
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
        log.info("created stream", extra={"stream": config.name})


async def ensure_kv(js: JetStreamContext, bucket: str, *, history: int = 5) -> KeyValue:
    """Returns the KV bucket, creating it on first use."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        log.info("created kv bucket", extra={"bucket": bucket})
        return await js.create_key_value(KeyValueConfig(bucket=bucket, history=history))
