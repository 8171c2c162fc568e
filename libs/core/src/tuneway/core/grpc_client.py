"""gRPC client channels: retries on UNAVAILABLE for idempotent calls, keepalive, and deadlines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import grpc

# Retry transient transport failures (a replica restarting) a few times with backoff. Only calls
# that have not yet received a response are retried by gRPC, so streaming generations stay safe.
_SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [{}],
            "retryPolicy": {
                "maxAttempts": 4,
                "initialBackoff": "0.1s",
                "maxBackoff": "1s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}


def create_channel(
    target: str, options: Sequence[tuple[str, Any]] = (), *, retries: bool = True
) -> grpc.aio.Channel:
    """An insecure aio channel to `target` (host:port) with keepalive and, unless turned off, retries.

    Turn retries off for long-lived streams: gRPC keeps every message of a retryable call for replay.
    """
    retry_options = [("grpc.enable_retries", 1), ("grpc.service_config", json.dumps(_SERVICE_CONFIG))]
    return grpc.aio.insecure_channel(
        target,
        options=[
            *(retry_options if retries else [("grpc.enable_retries", 0)]),
            ("grpc.keepalive_time_ms", 30_000),
            # Reconnect to a peer that went away at least every second (gRPC's default backoff grows
            # to two minutes), so a restarted replica is used again as soon as it is back.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 1_000),
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            *options,
        ],
    )
