"""NATS connection and the JetStream streams and KV buckets that ARCHITECTURE.md names."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

import nats
from nats.aio.client import Client
from nats.errors import ConnectionClosedError, ConnectionReconnectingError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, KeyValueConfig, RetentionPolicy, StreamConfig
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)

ADAPTERS_BUCKET = "ADAPTERS"
TRAINING_STREAM = StreamConfig(
    name="TRAINING", subjects=["training.jobs.requested"], retention=RetentionPolicy.WORK_QUEUE
)
# OpenAI batches for the gateway's batch workers; Nats-Msg-Id = batch id. The database is the record of
# a batch (its lines' results too), so a redelivery resumes it and a duplicate message finds it done.
BATCHES_STREAM = StreamConfig(
    name="BATCHES", subjects=["batches.requested"], retention=RetentionPolicy.WORK_QUEUE
)
# Publishers retry with the same Nats-Msg-Id (request or feedback id); a window of several minutes
# lets JetStream drop those copies before analytics ever sees them (analytics dedupes again by id).
# events.batch carries the gateway's EventBatch (many events per message); the single-event subjects
# stay for any other producer.
EVENTS_STREAM = StreamConfig(
    name="EVENTS",
    subjects=["events.completions", "events.feedback", "events.batch"],
    retention=RetentionPolicy.LIMITS,
    duplicate_window=300.0,
)


async def _log_error(error: Exception) -> None:
    log.warning("NATS: %s", error)


async def connect(url: str, name: str, *, connect_timeout: float = 2.0) -> Client:
    """Connects, then reconnects forever: a NATS restart must not take the service down.

    The first attempt fails fast when nothing answers (nats-py would otherwise retry inside
    `connect` forever), so callers' `retry_forever` can log, back off and honour a stop signal.
    """
    target = urlparse(url)
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(target.hostname or "127.0.0.1", target.port or 4222), connect_timeout
    )
    writer.close()
    return await nats.connect(
        servers=[url],
        name=name,
        connect_timeout=connect_timeout,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        error_cb=_log_error,
    )


async def close(nc: Client) -> None:
    """Drains the connection on a graceful stop; while NATS is down there is nothing to drain (drain
    raises), so the connection is just closed and the stop carries on."""
    try:
        await nc.drain()
    except (ConnectionReconnectingError, ConnectionClosedError):
        await nc.close()


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Creates the stream if it does not exist. An existing one keeps its settings, but gains the
    subjects `config` names that it lacks (a stream made by an older release must accept a new
    subject, or publishing to it fails)."""
    try:
        info = await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
        log.info("created stream", extra={"stream": config.name})
        return
    have = list(info.config.subjects or [])
    missing = [s for s in config.subjects or [] if s not in have]
    if missing:
        info.config.subjects = have + missing
        await js.update_stream(info.config)
        log.info("added subjects to stream", extra={"stream": config.name, "subjects": missing})


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Creates the durable consumer, or brings an existing one to `config` (its ack wait, delivery
    limits): binding alone would keep the settings of whoever created it first, and a changed setting
    would be silently ignored."""
    try:
        await js.add_consumer(stream, config)
    except APIError as error:  # an older server refuses to change an existing consumer
        log.warning("keeping the existing %s consumer: %s", config.durable_name, error)


async def ensure_kv(js: JetStreamContext, bucket: str, *, history: int = 5) -> KeyValue:
    """Returns the KV bucket, creating it on first use."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        log.info("created kv bucket", extra={"bucket": bucket})
        return await js.create_key_value(KeyValueConfig(bucket=bucket, history=history))
