"""A replica killed with SIGKILL in the middle of ingesting loses nothing and counts nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from tuneway.api.analytics.v1 import analytics_pb2 as pb
from tuneway.api.analytics.v1 import analytics_pb2_grpc
from tuneway.api.events.v1 import events_pb2
from tuneway.core.grpc_client import create_channel
from tuneway.core.testing.processes import free_port

# It kills and restarts a replica (seconds each): make faults, not make test.
pytestmark = pytest.mark.faults
MakeCompletion = Callable[..., events_pb2.CompletionEvent]
EPOCH_MS = 1_767_225_600_000
FROM, TO = EPOCH_MS - 86_400_000, EPOCH_MS + 86_400_000
PUBLISHED = 3000


def _env(db_url: str, nats_url: str, retriever: str, port: int, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ANALYTICS_DATABASE_URL": db_url,
        "TUNEWAY_NATS_URL": nats_url,
        "ANALYTICS_RETRIEVER_TARGET": retriever,
        "ANALYTICS_GRPC_PORT": str(port),
        "ANALYTICS_HOST": "127.0.0.1",
        "ANALYTICS_METRICS_PORT": "0",
        "TUNEWAY_DATA_DIR": str(data_dir),
        "ANALYTICS_BATCH_SIZE": "50",
        "ANALYTICS_FETCH_TIMEOUT_SECONDS": "0.2",
        # Redeliveries of what the killed process fetched come back quickly.
        "ANALYTICS_ACK_WAIT_SECONDS": "2",
        "ANALYTICS_RAW_RETENTION_DAYS": "0",
    }


async def _requests(stub: analytics_pb2_grpc.AnalyticsServiceStub, tenant: str) -> int:
    try:
        response = await stub.GetSummary(
            pb.GetSummaryRequest(tenant_id=tenant, from_ms=FROM, to_ms=TO), timeout=2
        )
    except Exception:
        return -1
    return int(response.total.requests)


async def test_sigkill_mid_batch_loses_nothing_and_counts_once(
    db_url: str,
    nats_url: str,
    retriever_target: str,
    js: JetStreamContext,
    tenant: str,
    completion: MakeCompletion,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = _env(db_url, nats_url, retriever_target, port, tmp_path / "data")
    channel = create_channel(f"127.0.0.1:{port}")
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    for i in range(PUBLISHED):
        event = completion(tenant, EPOCH_MS + i, last_user_message=f"question {i}: where is parcel {i * 7}?")
        await js.publish(
            "events.completions", event.SerializeToString(), headers={"Nats-Msg-Id": event.request_id}
        )
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "tuneway.analytics", env=env)
    try:
        counted = 0
        for _ in range(600):
            counted = await _requests(stub, tenant)
            if counted > 0:
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
        assert 0 < counted < PUBLISHED, f"the kill did not land mid-way ({counted})"

        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "tuneway.analytics", env=env)
        for _ in range(1200):
            counted = await _requests(stub, tenant)
            assert counted <= PUBLISHED
            if counted == PUBLISHED:
                break
            await asyncio.sleep(0.1)
        assert counted == PUBLISHED
        await asyncio.sleep(3)  # past the ack wait: anything redelivered late still counts once
        assert await _requests(stub, tenant) == PUBLISHED
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        await channel.close()
